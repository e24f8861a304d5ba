/* The finance console: the close awaiting a decision (eligible against held, payouts largest
   first, anomalies with their reasons, held partners, a partner's details), excluding partners and
   approving or rejecting the run and proposal shown, the audit trail, bank files once paid,
   CSV exports and the month's program analytics (its report page and key figures, once written). Every value comes from the finance API already formatted for the page's language;
   every text is set as text (Portal.el), never as HTML. */
(function () {
  "use strict";
  const P = window.Portal;
  const t = P.t;
  const el = P.el;
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;

  const me = P.requireSession(["finance", "operator", "program_manager"]);
  if (!me) return;
  const groups = P.groups();
  const isFinance = groups.includes("finance");
  const readsPartners = isFinance || groups.includes("operator");
  const state = { close: null, excluded: new Set(), cursors: {} };

  function statusText(s) { const k = "finance.status." + s; const v = t(k); return v === k ? s : v; }
  function fail(r) { P.flash(t("common.error", { error: (r.data && r.data.error) || r.status }), "error"); }
  function enc(v) { return encodeURIComponent(v); }
  function base() { return "/finance/closes/" + enc(state.close.period); }

  async function load() {
    const [closes, pending] = await Promise.all([P.api("/finance/closes"), P.api("/finance/approvals")]);
    if (!closes.ok) return fail(closes);
    const list = closes.data.closes;
    if (!list.length) { $("no-closes").hidden = false; return; }
    const select = $("period");
    select.replaceChildren(...list.map((c) => el("option", { value: c.period }, c.text + " — " + statusText(c.status))));
    const asked = new URLSearchParams(window.location.search).get("period");
    const awaiting = pending.ok && pending.data.approvals.length ? pending.data.approvals[0].period : null;
    select.value = asked || awaiting || list[0].period;
    select.addEventListener("change", () => show(select.value));
    await show(select.value);
  }

  function fact(label, value) { return [el("dt", {}, label), el("dd", {}, value)]; }

  function figure(kind, title, main, sub) {
    return el("div", { class: "fig " + kind }, el("h3", {}, title), el("div", { class: "figure" }, main), el("div", { class: "muted" }, sub || ""));
  }

  async function show(period) {
    P.flash("");
    const r = await P.api("/finance/closes/" + enc(period));
    if (!r.ok) return fail(r);
    const c = r.data;
    state.close = c;
    const option = $("period").querySelector('option[value="' + c.period + '"]');
    if (option) option.textContent = c.text + " — " + statusText(c.status);
    state.excluded = new Set(c.exclude || []);
    $("close-facts").replaceChildren(
      ...fact(t("finance.status"), el("span", { class: "status " + c.status }, statusText(c.status))),
      ...fact(t("finance.run"), c.run),
      ...fact(t("finance.digest"), c.digest ? c.digest.slice(0, 16) + "…" : "—"),
      ...fact(t("finance.started_by"), c.started_by || "—"),
      ...fact(t("finance.requested"), c.requested ? c.requested.text : "—"),
    );
    const f = c.figures;
    $("figures").replaceChildren(...(f ? [
      figure("eligible", t("finance.eligible"), f.eligible.total.text, t("finance.partners_n", { n: f.eligible.count })),
      figure("held", t("finance.held"), f.held.total.text, t("finance.partners_n", { n: f.held.count })),
      figure("negative", t("finance.negative"), f.negative.total.text, t("finance.partners_n", { n: f.negative.count })),
      figure("anomalies", t("finance.anomalies"), String(f.anomalies),
        t("finance.approvals", { n: c.approvals.length, required: c.approvals_required })),
    ] : []));
    for (const id of ["top-card", "anomalies-card", "held-card", "exports-card", "audit-card"]) $(id).hidden = !readsPartners || !f;
    $("drill").hidden = true;
    $("audit-card").hidden = !readsPartners;
    if (readsPartners && f) {
      $("top").tBodies[0].replaceChildren();
      $("anomalies").replaceChildren();
      $("held").tBodies[0].replaceChildren();
      state.cursors = {};
      await Promise.all([more("top"), more("anomalies"), more("held")]);
    }
    if (readsPartners) await audit();
    decision();
    await Promise.all([bankFiles(), analytics()]);
  }

  const LISTS = {
    top: { path: "/payouts?sort=amount", row: payoutRow, into: () => $("top").tBodies[0] },
    anomalies: { path: "/anomalies", row: anomalyRow, into: () => $("anomalies") },
    held: { path: "/held", row: heldRow, into: () => $("held").tBodies[0] },
  };

  async function more(name) {
    const list = LISTS[name];
    const cursor = state.cursors[name];
    const sep = list.path.includes("?") ? "&" : "?";
    const r = await P.api(base() + list.path + sep + "limit=" + PAGE + (cursor ? "&cursor=" + enc(cursor) : ""));
    if (!r.ok) return fail(r);
    list.into().append(...r.data.items.map(list.row));
    state.cursors[name] = r.data.next_cursor;
    $(name + "-more").hidden = !r.data.next_cursor;
    if (name !== "top") $(name + "-card").hidden = r.data.total === 0 && !cursor;
  }

  function partnerCell(item) {
    return el("td", {}, item.name, el("span", { class: "partner-id" }, item.partner_id));
  }

  function detailsButton(item) {
    return el("button", { type: "button", class: "link", "aria-label": t("finance.details_of", { partner: item.name || item.partner_id }),
      onclick: () => drill(item.partner_id) }, t("finance.details"));
  }

  function payoutRow(item) {
    const decidable = state.close.may_approve;
    const box = el("input", { type: "checkbox", "data-partner": item.partner_id, disabled: !decidable,
      "aria-label": t("finance.exclude_label", { partner: (item.name || "") + " " + item.partner_id }) });
    box.checked = state.excluded.has(item.partner_id);
    box.addEventListener("change", () => {
      if (box.checked) state.excluded.add(item.partner_id); else state.excluded.delete(item.partner_id);
      showExcluded();
    });
    return el("tr", {}, el("td", {}, box), partnerCell(item), el("td", {}, item.tier),
      el("td", { class: "num" }, item.payout.text), el("td", {}, detailsButton(item)));
  }

  function heldRow(item) {
    return el("tr", {}, partnerCell(item), el("td", { class: "num" }, item.carried_out.text), el("td", {}, item.reason));
  }

  function anomalyRow(item) {
    return el("li", {}, el("strong", {}, item.name + " (" + item.partner_id + ")"), ": ", item.reason, " ", detailsButton(item));
  }

  async function drill(partnerId) {
    const r = await P.api(base() + "/partners/" + enc(partnerId));
    if (!r.ok) return fail(r);
    const d = r.data;
    const p = d.proposed;
    const rows = [
      ...fact(t("finance.col.partner"), p.name + " (" + p.partner_id + ")"),
      ...fact(t("finance.drill.why"), d.why),
      ...fact(t("finance.drill.proposed"), p.payout.text),
      ...fact(t("finance.col.carried"), p.carried_out.text),
      ...fact(t("finance.drill.matured"), p.matured_now.text),
      ...fact(t("finance.drill.carried_in"), p.carried_in.text),
      ...fact(t("finance.drill.net_sales"), p.net_sales.text),
      ...fact(t("finance.drill.tier"), p.tier_before + " → " + p.tier_after + (p.tier_reason ? " (" + p.tier_reason + ")" : "")),
    ];
    if (d.excluded) rows.push(...fact(t("finance.drill.excluded"), "✓"));
    if (d.committed) rows.push(...fact(t("finance.drill.committed"), d.committed.state + ": " + d.committed.payout.text));
    if (p.anomalies.length) rows.push(...fact(t("finance.anomalies"), el("ul", {}, ...p.anomalies.map((a) => el("li", {}, a)))));
    $("drill-body").replaceChildren(el("dl", { class: "facts" }, ...rows));
    const box = $("drill");
    box.hidden = false;
    box.focus();
  }

  function showExcluded() {
    const list = Array.from(state.excluded).sort();
    $("decision-excluded").textContent = list.length ? t("finance.decision.excluded", { list: list.join(", ") }) : t("finance.decision.none_excluded");
  }

  function decision() {
    const c = state.close;
    const box = $("decision");
    box.hidden = !isFinance;
    if (!isFinance) return;
    const open = c.may_approve || c.may_reject;
    $("decision-form").hidden = !open;
    $("decision-none").hidden = open;
    $("approve").hidden = !c.may_approve;
    $("decision-error").hidden = true;
    $("decision-bound").textContent = t("finance.decision.bound", { run: c.run, digest: (c.digest || "").slice(0, 16) + "…" });
    showExcluded();
  }

  function refused(r) {
    const box = $("decision-error");
    box.textContent = (r.data && r.data.error) || t("common.error", { error: r.status });
    box.hidden = false;
  }

  async function approve(e) {
    e.preventDefault();
    const c = state.close;
    const body = { run: c.run, digest: c.digest, comment: $("comment").value.trim(), exclude: Array.from(state.excluded).sort() };
    const r = await P.api(base() + "/approve", { method: "POST", body });
    if (!r.ok) return refused(r);
    await show(c.period);
    P.flash(r.data.status === "pending_second"
      ? t("finance.decision.pending_second", { n: r.data.approvals, required: r.data.required })
      : t("finance.decision.approved"), "ok");
  }

  async function reject() {
    const c = state.close;
    const comment = $("comment").value.trim();
    if (!comment) { refused({ data: { error: t("finance.decision.reject_needs_comment") } }); $("comment").focus(); return; }
    const r = await P.api(base() + "/reject", { method: "POST", body: { comment, run: c.run } });
    if (!r.ok) return refused(r);
    await show(c.period);
    P.flash(t("finance.decision.rejected"), "ok");
  }

  function detailText(d) {
    const parts = [];
    if (d.comment) parts.push("“" + d.comment + "”");
    if (d.exclude && d.exclude.length) parts.push(t("finance.decision.excluded", { list: d.exclude.join(", ") }));
    if (d.approval) parts.push(d.approval);
    if (d.run) parts.push(d.run);
    return parts.join(" · ");
  }

  async function audit() {
    const r = await P.api(base() + "/audit");
    if (!r.ok) return fail(r);
    $("audit").tBodies[0].replaceChildren(...r.data.entries.map((e) =>
      el("tr", {}, el("td", {}, e.text), el("td", {}, e.actor), el("td", {}, e.action), el("td", {}, detailText(e.detail)))));
    $("audit-card").hidden = false;
  }

  async function bankFiles() {
    const card = $("bank-card");
    card.hidden = !isFinance;
    if (!isFinance) return;
    const paid = state.close.status === "paid";
    $("bank-wait").hidden = paid;
    $("bank-files").replaceChildren();
    if (!paid) return;
    const r = await P.api(base() + "/bank-files");
    if (!r.ok) return fail(r);
    $("bank-files").append(...r.data.files.map((f) => el("li", {}, el("a", { href: f.url, download: f.name }, t("common.download") + ": " + f.name))));
  }

  /* The program analytics of the month: a link to the report page (a presigned GET, opened in a
     new tab) and its key figures; none yet (404: the analytics step runs after the close is
     paid) hides the card. */
  async function analytics() {
    const card = $("analytics-card");
    card.hidden = true;
    const period = state.close.period;
    const r = await P.api(base() + "/analytics");
    if (!state.close || state.close.period !== period) return;  // another month was chosen meanwhile
    if (r.status === 404) return;
    if (!r.ok) return fail(r);
    $("analytics-link").setAttribute("href", r.data.html_url);
    $("analytics-figures").replaceChildren(...r.data.key_figures.flatMap(([label, value]) => fact(label, value)));
    card.hidden = false;
  }

  async function exportCsv(kind) {
    const r = await P.api(base() + "/export.csv?kind=" + enc(kind));
    if (!r.ok) return fail(r);
    const url = URL.createObjectURL(new Blob([r.data], { type: "text/csv" }));
    const a = el("a", { href: url, download: kind + "-" + state.close.period + ".csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  $("decision-form").addEventListener("submit", approve);
  $("reject").addEventListener("click", reject);
  for (const name of Object.keys(LISTS)) $(name + "-more").addEventListener("click", () => more(name));
  document.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", () => exportCsv(b.dataset.export)));
  load();
})();
