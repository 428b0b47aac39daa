// First-run setup: the owner account, made with the token the gateway printed on its console.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { goFrom } from "../lib/router.js";
import { refreshMe } from "../lib/session.js";
import { ErrorText, Field } from "../components/ui.js";

/** The setup page. */
export function SetupView() {
  const [form, setForm] = useState({ token: "", username: "", password: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api("POST", "/api/setup", { token: form.token.trim(), username: form.username, password: form.password });
      await refreshMe();
      goFrom("setup", "#/settings");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="auth">
    <form class="card auth-card" onSubmit=${submit}>
      <img class="auth-logo" src="/static/icon.svg" alt="" width="48" height="48" />
      <h1>Welcome to Doorstep</h1>
      <p>Create the owner account. The setup token is printed on the console where the gateway runs.</p>
      <${Field} label="Setup token"><input name="token" autocomplete="off" required autocapitalize="none" spellcheck=${false}
        value=${form.token} onInput=${set("token")} /></${Field}>
      <${Field} label="User name"><input name="username" autocomplete="username" required autocapitalize="none"
        value=${form.username} onInput=${set("username")} /></${Field}>
      <${Field} label="Password" hint="At least 10 characters."><input name="password" type="password"
        autocomplete="new-password" required minlength="10" value=${form.password} onInput=${set("password")} /></${Field}>
      <${ErrorText} error=${error} />
      <button type="submit" class="wide" disabled=${busy}>Create owner</button>
      <p class="muted small">After this: the second factor every owner account needs.</p>
    </form>
  </div>`;
}
