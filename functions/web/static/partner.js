/* The partner dashboard: reads the Partner API (docs/portal.md) with the signed-in user's token
   and renders every section with text nodes only (Portal.el; never innerHTML of data). The
   partner is the user's own (`custom:partner_id`), or `?partner=<id>` (a distributor's downline;
   any other id is refused by the API: 404). */
(function () {
  "use strict";
  const P = window.Portal;
  const { el, t, txt } = P;
  const claims = P.requireSession(["partner"]);
  if (!claims) return;
  const params = new URLSearchParams(window.location.search);
  const pid = params.get("partner") || claims["custom:partner_id"];
  const own = pid === claims["custom:partner_id"];
  const base = "/partners/" + encodeURIComponent(pid);
  const app = document.getElementById("app");
  const num = n => Number(n).toLocaleString(P.lang);
  /* a refusal in the page's language (its code), with the API's sentence and numbers beside it */
  const refusal = (code, message) => {
    const key = "partner.refusal." + code;
    const word = t(key);
    return word === key ? message : (P.lang === "en" ? message : word + " (" + message + ")");
  };

  function card(id, title, ...body) {
    return el("section", { class: "card", id, "aria-labelledby": id + "-h" }, el("h2", { id: id + "-h" }, title), ...body);
  }

  function replace(id, node) {
    const old = document.getElementById(id);
    if (old) old.replaceWith(node); else app.append(node);
  }

  function failed(id, title, r) {
    const why = r.status === 404 ? t("partner.refused") : t("common.error", { error: (r.data && r.data.error) || r.status });
    replace(id, card(id, title, el("p", { class: "error", role: "alert" }, why)));
  }

  function progress(ratio, label) {
    const pct = Math.max(0, Math.min(100, Math.round(Number(ratio || 0) * 100)));
    return el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(pct), "aria-label": label }, el("span", { style: null, dataset: { pct: String(pct) } }));
  }

  function sizeBars(root) {  /* widths from data attributes: no inline style strings from data */
    root.querySelectorAll(".progress > span[data-pct]").forEach(s => { s.style.width = s.dataset.pct + "%"; });
  }

  async function header() {
    const [me, tier] = await Promise.all([P.api("/me"), P.api(base + "/tier")]);
    if (!tier.ok) { failed("tier", t("partner.tier"), tier); return false; }
    const d = tier.data;
    const name = own && me.ok && me.data.partner ? me.data.partner.name : pid;
    const box = card("tier", t("partner.tier"),
      el("p", {}, el("strong", {}, name), " ", el("span", { class: "badge", id: "tier-badge" }, d.tier)),
      d.next_tier ? el("p", {}, t("partner.next_tier", { tier: d.next_tier }), " · ", d.progress ? d.progress.text : "") : null,
      d.next_tier ? progress(d.progress && d.progress.ratio, t("partner.progress_to", { tier: d.next_tier })) : null,
      el("p", { class: "muted" }, d.text),
      d.trailing_net_sales ? el("p", { class: "muted" }, t("partner.trailing", { months: d.window_months }), " ", txt(d.trailing_net_sales)) : null);
    replace("tier", box);
    return true;
  }

  async function balance() {
    const r = await P.api(base + "/balance");
    if (!r.ok) return failed("balance", t("partner.balance"), r);
    const d = r.data;
    const fig = (key) => el("div", { class: "stat" }, el("div", { class: "muted" }, t("partner." + key)),
      el("div", { class: "figure", id: "bal-" + key }, txt(d[key])));
    replace("balance", card("balance", t("partner.balance"),
      el("div", { class: "grid" }, fig("provisional"), fig("held"), fig("payable"), fig("paid"), fig("carried")),
      el("p", {}, d.explain.holding), el("p", {}, d.explain.minimum),
      d.below_minimum ? el("p", { class: "muted" }, t("partner.below_minimum")) : null));
  }

  async function earnings() {
    const r = await P.api(base + "/earnings?months=12");
    if (!r.ok) return failed("earnings", t("partner.earnings"), r);
    const months = r.data.months;
    const total = m => Number(m.commission.amount) + Number(m.bonus.amount) + Number(m.override.amount);
    const top = Math.max(1, ...months.map(total));
    const W = 600, H = 180, bw = W / months.length;
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H + 24}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", "earnings-h");
    svg.setAttribute("class", "chart");
    months.forEach((m, i) => {
      const v = total(m), h = Math.max(v > 0 ? 2 : 0, (v / top) * H);
      const bar = document.createElementNS(NS, "rect");
      bar.setAttribute("x", String(i * bw + 4)); bar.setAttribute("y", String(H - h));
      bar.setAttribute("width", String(bw - 8)); bar.setAttribute("height", String(h));
      bar.setAttribute("class", m.closed ? "bar closed" : "bar open");
      const tip = document.createElementNS(NS, "title");
      tip.textContent = `${m.text}: ${m.commission.text}`;
      bar.append(tip); svg.append(bar);
      const label = document.createElementNS(NS, "text");
      label.setAttribute("x", String(i * bw + bw / 2)); label.setAttribute("y", String(H + 16));
      label.setAttribute("text-anchor", "middle"); label.setAttribute("class", "axis");
      label.textContent = new Date(Date.UTC(+m.period.slice(0, 4), +m.period.slice(5) - 1, 1)).toLocaleString(P.lang, { month: "short", timeZone: "UTC" });
      svg.append(label);
    });
    const rows = months.map(m => el("tr", {}, el("th", { scope: "row" }, m.text),
      el("td", { class: "num", "data-label": t("partner.commission") }, m.commission.text),
      el("td", { class: "num", "data-label": t("partner.bonus") }, m.bonus.text),
      el("td", { class: "num", "data-label": t("partner.override") }, m.override.text),
      el("td", { class: "num", "data-label": t("partner.points") }, num(m.points))));
    replace("earnings", card("earnings", t("partner.earnings"), svg,
      el("details", {}, el("summary", {}, t("partner.as_table")), el("div", { class: "table-wrap" }, el("table", { class: "stack" },
        el("thead", {}, el("tr", {}, el("th", {}, t("partner.month")), el("th", { class: "num" }, t("partner.commission")),
          el("th", { class: "num" }, t("partner.bonus")), el("th", { class: "num" }, t("partner.override")), el("th", { class: "num" }, t("partner.points")))),
        el("tbody", {}, rows))))));
  }

  async function lines() {
    const r = await P.api(base + "/lines?limit=10");
    if (!r.ok) return failed("lines", t("partner.lines"), r);
    const L = k => t("partner.col." + k);
    const rows = r.data.lines.map(x => el("tr", {},
      el("td", { "data-label": L("sale") }, x.sale_id), el("td", { "data-label": L("date") }, x.sold_at.slice(0, 10)),
      el("td", { class: "num", "data-label": L("amount") }, x.amount_eur.text),
      el("td", { "data-label": L("rate") }, x.tier, " ", x.rate_pct, " %"),
      el("td", { class: "num", "data-label": L("commission") }, x.commission.text),
      el("td", { class: "trace-cell" }, el("details", {}, el("summary", {}, t("partner.trace")), el("p", { class: "trace" }, x.trace)))));
    replace("lines", card("lines", t("partner.lines"), rows.length ? el("div", { class: "table-wrap" }, el("table", { class: "stack" },
      el("thead", {}, el("tr", {}, ...["sale", "date", "amount", "rate", "commission", "trace"].map(k =>
        el("th", { class: ["amount", "commission"].includes(k) ? "num" : null }, L(k))))),
      el("tbody", {}, rows))) : el("p", { class: "muted" }, t("common.none"))));
  }

  async function targets() {
    const r = await P.api(base + "/targets");
    if (!r.ok) return failed("targets", t("partner.targets"), r);
    const items = r.data.targets.map(x => el("li", {}, el("strong", {}, x.target_id), " · ", x.interval, " · ", x.attainment.text,
      progress(x.attainment.ratio, x.target_id), el("span", { class: "muted" }, x.text)));
    replace("targets", card("targets", t("partner.targets"), items.length ? el("ul", { class: "plain" }, items) : el("p", { class: "muted" }, t("common.none"))));
  }

  async function points() {
    const [pts, rank] = await Promise.all([P.api(base + "/points"), P.api(base + "/rank")]);
    if (!pts.ok) return failed("points", t("partner.points"), pts);
    const d = pts.data;
    const rk = rank.ok ? rank.data : null;
    replace("points", card("points", t("partner.points"),
      el("div", { class: "grid" },
        el("div", {}, el("div", { class: "muted" }, t("partner.points_balance")), el("div", { class: "figure", id: "points-balance" }, d.text)),
        el("div", {}, el("div", { class: "muted" }, t("partner.points_pending")), el("div", { class: "figure" }, num(d.pending))),
        el("div", {}, el("div", { class: "muted" }, t("partner.points_lifetime")), el("div", { class: "figure" }, num(d.lifetime)))),
      d.expiring_soon ? el("p", { class: "warn" }, t("partner.expiring", { points: num(d.expiring_soon), date: txt(d.expiring_on) })) : null,
      el("h3", {}, t("partner.rank")),
      rk && rk.ranked ? el("p", { id: "rank" }, t("partner.rank_of", { rank: rk.place.rank, of: rk.of, segment: rk.segment }), " · ", rk.text, " · ", rk.place.text)
        : el("p", { class: "muted", id: "rank" }, t("partner.unranked"))));
  }

  async function download(period, fmt, button) {
    button.disabled = true;
    const r = await P.api(`${base}/statements/${period}?format=${fmt}`);
    button.disabled = false;
    if (!r.ok) { P.flash((r.data && r.data.error) || t("common.not_found"), "error"); return; }
    const a = el("a", { href: r.data.url, download: `statement-${pid}-${period}.${fmt}` });
    document.body.append(a); a.click(); a.remove();
  }

  async function statements() {
    const r = await P.api(base + "/statements");
    if (!r.ok) return failed("statements", t("partner.statements"), r);
    const items = r.data.statements.map(s => el("li", {}, el("span", {}, s.text), " ",
      ...s.formats.map(f => el("button", { type: "button", class: "link", "aria-label": `${t("common.download")} ${f.toUpperCase()} ${s.text}`,
        onclick: (e) => download(s.period, f, e.currentTarget) }, f.toUpperCase()))));
    replace("statements", card("statements", t("partner.statements"), items.length ? el("ul", { class: "plain" }, items) : el("p", { class: "muted" }, t("common.none"))));
  }

  async function redeem(reward, button) {
    button.disabled = true;
    const key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    const r = await P.api(base + "/redemptions", { method: "POST", body: { reward_id: reward.reward_id, quantity: 1 }, headers: { "Idempotency-Key": key } });
    if (r.ok) P.flash(t("partner.redeemed", { name: reward.name, points: reward.points }), "ok");
    else {
      const code = r.data && r.data.details && r.data.details[0] && r.data.details[0].code;
      P.flash(code ? refusal(code, r.data.error) : ((r.data && r.data.error) || String(r.status)), "error");
    }
    await Promise.all([catalog(), points()]);
    sizeBars(app);
  }

  async function catalog() {
    const r = await P.api(base + "/catalog");
    if (!r.ok) return failed("catalog", t("partner.catalog"), r);
    const rows = r.data.rewards.map(x => el("li", { class: "reward" },
      el("div", {}, el("strong", {}, x.name), " · ", x.points_text, " ", t("partner.pts"),
        x.stock_left !== null ? el("span", { class: "muted" }, " · ", t("partner.stock", { n: x.stock_left })) : null),
      x.available && own ? el("button", { type: "button", class: "primary", "aria-label": t("partner.redeem") + " " + x.name, onclick: (e) => redeem(x, e.currentTarget) }, t("partner.redeem"))
        : el("span", { class: "muted" }, x.refusal ? refusal(x.refusal.code, x.refusal.message) : "")));
    replace("catalog", card("catalog", t("partner.catalog"), rows.length ? el("ul", { class: "plain" }, rows) : el("p", { class: "muted" }, t("common.none"))));
  }

  async function emails() {
    const r = await P.api(base + "/email");
    if (!r.ok) return failed("emails", t("partner.email.title"), r);
    const off = new Set(r.data.off);
    const boxes = r.data.kinds.map(k => el("label", { class: "check" },
      el("input", { type: "checkbox", name: k, checked: !off.has(k) && !off.has("all"), disabled: !own }), " ", t("partner.email." + k)));
    const form = el("form", { id: "email-form" }, el("fieldset", {}, el("legend", {}, t("partner.email.intro")), ...boxes),
      own ? el("button", { type: "submit", class: "primary" }, t("partner.email.save")) : null);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = r.data.kinds.filter(k => !form.elements[k].checked);
      const saved = await P.api(base + "/email", { method: "PUT", body: { off: chosen } });
      P.flash(saved.ok ? t("partner.email.saved") : ((saved.data && saved.data.error) || String(saved.status)), saved.ok ? "ok" : "error");
    });
    replace("emails", card("emails", t("partner.email.title"), form));
  }

  function reportView(u) {
    const rep = u.report;
    return el("li", { dataset: { upload: u.upload_id } }, el("strong", {}, u.filename), " · ", t("partner.status." + u.status),
      rep ? el("span", {}, " · ", t("partner.report", { accepted: rep.accepted, rejected: rep.rejected, rows: rep.rows })) : null,
      rep && rep.file_error ? el("span", { class: "error" }, " ", rep.file_error.message) : null,
      u.errors_url ? el("a", { href: u.errors_url, download: "errors.csv" }, " ", t("partner.errors_report")) : null);
  }

  async function uploads() {
    const r = await P.api(base + "/uploads?limit=10");
    if (!r.ok) return failed("uploads", t("partner.uploads"), r);
    const list = el("ul", { class: "plain", id: "upload-list" }, r.data.uploads.map(reportView));
    const form = own ? el("form", { id: "upload-form" },
      el("label", { for: "upload-file" }, t("partner.upload_file")),
      el("input", { id: "upload-file", name: "file", type: "file", accept: ".csv,text/csv", required: true }),
      el("button", { type: "submit", class: "primary" }, t("partner.upload"))) : null;
    if (form) form.addEventListener("submit", (e) => { e.preventDefault(); send(form); });
    replace("uploads", card("uploads", t("partner.uploads"), form, list));
  }

  async function send(form) {
    const file = form.file.files[0];
    if (!file) { P.flash(t("partner.upload_pick"), "error"); return; }
    const type = file.type || "text/csv";
    const r = await P.api(base + "/uploads", { method: "POST", body: { filename: file.name, content_type: type, size: file.size } });
    if (!r.ok) { P.flash((r.data && r.data.error) || String(r.status), "error"); return; }
    const data = new FormData();
    for (const [k, v] of Object.entries(r.data.fields)) data.append(k, v);
    data.append("file", file);
    const sent = await fetch(r.data.url, { method: "POST", body: data });
    if (!sent.ok) { P.flash(t("partner.upload_failed", { status: sent.status }), "error"); return; }
    P.flash(t("partner.uploaded"), "ok");
    for (let i = 0; i < 60; i++) {
      const got = await P.api(`${base}/uploads/${r.data.upload_id}`);
      if (got.ok && got.data.status !== "pending") break;
      await new Promise(res => setTimeout(res, 1000));
    }
    await uploads();
  }

  (async function main() {
    app.append(el("p", { class: "muted", id: "loading" }, t("common.loading")));
    if (!await header()) { document.getElementById("loading").remove(); return; }
    await Promise.all([balance(), earnings(), lines(), targets(), points(), statements(), catalog(), uploads(), emails()]);
    const order = ["tier", "balance", "earnings", "points", "targets", "lines", "statements", "catalog", "uploads", "emails"];
    for (const id of order) { const n = document.getElementById(id); if (n) app.append(n); }
    document.getElementById("loading").remove();
    sizeBars(app);
    app.dataset.ready = "true";
  })();
})();
