/* The portal's shared script: session (the user pool's id token in sessionStorage), the API
   client, the page's words, and an element builder that only ever sets text (never HTML).
   Every page script uses window.Portal; nothing here is fetched from outside the stack. */
(function () {
  "use strict";
  const KEY = "loyalty.session";
  const body = document.body;
  const messages = JSON.parse(document.getElementById("messages").textContent || "{}");
  const lang = body.dataset.lang || "en";

  function t(key, vars) {
    let text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    for (const [k, v] of Object.entries(vars || {})) text = text.split("{" + k + "}").join(String(v));
    return text;
  }

  function session() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }

  function claims() {
    const s = session();
    if (!s || !s.id_token) return null;
    try {
      const part = s.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(Array.from(atob(part), c => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
      return JSON.parse(json);
    } catch (e) { return null; }
  }

  function groups() {
    const c = claims();
    const g = c && c["cognito:groups"];
    return Array.isArray(g) ? g : (g ? String(g).replace(/[\[\]]/g, "").split(/[\s,]+/).filter(Boolean) : []);
  }

  function saveSession(tokens) {
    sessionStorage.setItem(KEY, JSON.stringify({ id_token: tokens.id_token, refresh_token: tokens.refresh_token || null,
      expires_at: Date.now() + 1000 * (tokens.expires_in || 3600) }));
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY);
    const q = new URLSearchParams({ lang: lang });
    if (reason) q.set("reason", reason);
    window.location.assign("/?" + q.toString());
  }

  async function refreshIfDue() {
    const s = session();
    if (!s || !s.refresh_token || s.expires_at - Date.now() > 120000) return;
    const r = await fetch("/auth/refresh", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: s.refresh_token }) });
    if (r.ok) { const tk = await r.json(); tk.refresh_token = tk.refresh_token || s.refresh_token; saveSession(tk); }
  }

  /* api("/partners/P1/balance") -> {status, ok, data}; a 401 ends the session. */
  async function api(path, opts) {
    opts = opts || {};
    await refreshIfDue();
    const s = session();
    const headers = Object.assign({ "accept": "application/json", "accept-language": lang }, opts.headers || {});
    if (s && s.id_token) headers["authorization"] = "Bearer " + s.id_token;
    let payload;
    if (opts.body !== undefined) { headers["content-type"] = "application/json"; payload = JSON.stringify(opts.body); }
    const sep = path.includes("?") ? "&" : "?";
    const r = await fetch(path + sep + "lang=" + encodeURIComponent(lang), { method: opts.method || "GET", headers, body: payload });
    if (r.status === 401 && !opts.allow401) { signOut("expired"); return { status: 401, ok: false, data: null }; }
    const kind = r.headers.get("content-type") || "";
    const data = kind.includes("json") ? await r.json().catch(() => null) : await r.text();
    return { status: r.status, ok: r.ok, data };
  }

  /* el("p", {class: "x", "aria-label": "..."}, "text", child) - text children become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function flash(text, kind) {
    const box = document.getElementById("flash");
    if (!box) return;
    box.textContent = text;
    box.className = "flash " + (kind || "info");
    box.hidden = !text;
  }

  /* the text of a money/date object from the API ({amount, currency, text}) or a plain value */
  function txt(v) { return v && typeof v === "object" && "text" in v ? v.text : (v === null || v === undefined ? "" : String(v)); }

  function setLang(next) {
    document.cookie = "lang=" + encodeURIComponent(next) + "; path=/; max-age=31536000; samesite=strict";
    const done = () => { const u = new URL(window.location.href); u.searchParams.set("lang", next); window.location.assign(u.toString()); };
    if (session()) api("/me", { method: "PUT", body: { lang: next }, allow401: true }).finally(done); else done();
  }

  function requireSession(allowed) {
    const c = claims();
    if (!c) { signOut(); return null; }
    if (allowed && !groups().some(g => allowed.includes(g))) { flash(t("common.denied"), "error"); return null; }
    const who = document.getElementById("who");
    if (who) { document.getElementById("who-name").textContent = c["cognito:username"] || ""; who.hidden = false; }
    return c;
  }

  (function showWho() {
    const c = claims();
    const who = document.getElementById("who");
    if (c && who) { document.getElementById("who-name").textContent = c["cognito:username"] || ""; who.hidden = false; }
  })();

  document.querySelectorAll("[data-lang-switch]").forEach(a => a.addEventListener("click", e => { e.preventDefault(); setLang(a.dataset.langSwitch); }));
  const out = document.getElementById("sign-out");
  if (out) out.addEventListener("click", () => signOut());

  window.Portal = { lang, t, api, el, txt, flash, session, saveSession, claims, groups, signOut, setLang, requireSession };
})();
