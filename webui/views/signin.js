// Sign-in: user name and password, then the authenticator code when the account has one.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { goFrom } from "../lib/router.js";
import { refreshMe } from "../lib/session.js";
import { store } from "../lib/store.js";
import { closeStream } from "../lib/stream.js";
import { inHousehold, receivesShares, sendsRequests } from "../lib/words.js";
import { ErrorText, Field } from "../components/ui.js";

/** Where an account lands after signing in. */
export function landing(me, meta) {
  if (me.must_enroll_totp) return "#/settings";
  if (receivesShares(meta, me.role)) return "#/shared";
  if (sendsRequests(meta, me.role)) return "#/footage";
  return inHousehold(meta, me.role) ? "#/cameras" : "#/settings";
}

/** The sign-in page. */
export function SignInView() {
  const [form, setForm] = useState({ username: "", password: "", code: "" });
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api("POST", "/api/session", { username: form.username, password: form.password, code: form.code || null });
      closeStream();  // another account may have been signed in on this page
      await refreshMe();
      const { me, meta } = store.get();
      if (me) goFrom("signin", landing(me, meta));
    } catch (err) {
      if (err.code === "totp_required") setNeedCode(true);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="auth">
    <form class="card auth-card" onSubmit=${submit}>
      <img class="auth-logo" src="/static/icon.svg" alt="" width="48" height="48" />
      <h1>Sign in</h1>
      <p class="muted">to your Doorstep gateway.</p>
      <${Field} label="User name"><input name="username" autocomplete="username" required autocapitalize="none"
        value=${form.username} onInput=${set("username")} /></${Field}>
      <${Field} label="Password"><input name="password" type="password" autocomplete="current-password" required
        value=${form.password} onInput=${set("password")} /></${Field}>
      ${needCode ? html`<${Field} label="Code from your authenticator app">
        <input name="code" inputmode="numeric" autocomplete="one-time-code" value=${form.code} onInput=${set("code")}
          ref=${(el) => el && document.activeElement?.name !== "code" && el.focus()} /></${Field}>` : null}
      <${ErrorText} error=${error} />
      <button type="submit" class="wide" disabled=${busy}>Sign in</button>
    </form>
  </div>`;
}
