/* Sign-in: the user pool's tokens through /auth/login, then the page the user's groups open. */
(function () {
  "use strict";
  const P = window.Portal;
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const params = new URLSearchParams(window.location.search);
  if (params.get("reason") === "expired") P.flash(P.t("common.session_expired"), "info");

  function home() {
    const g = P.groups();
    if (g.includes("partner")) return "/partner";
    if (g.some(x => ["finance", "operator", "program_manager"].includes(x))) return "/finance";
    return null;
  }

  if (P.claims() && home()) window.location.replace(home() + "?lang=" + P.lang);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) { error.textContent = P.t("login.missing"); error.hidden = false; return; }
    const r = await fetch("/auth/login", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }) });
    if (!r.ok) { error.textContent = P.t("login.failed"); error.hidden = false; form.password.focus(); return; }
    P.saveSession(await r.json());
    const next = home();
    if (!next) { error.textContent = P.t("common.denied"); error.hidden = false; return; }
    window.location.assign(next + "?lang=" + P.lang);
  });
})();
