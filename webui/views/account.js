// Sign-in, first-run setup and one's own account (password, second factor).
import { api } from "../api.js";
import { errorBox, field, h, setError, show } from "../dom.js";

export function setupView(onDone) {
  const token = h("input", { name: "token", autocomplete: "off", required: true });
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const error = errorBox();
  const form = h("form", { class: "card narrow", onsubmit: async (e) => {
    e.preventDefault();
    setError(error, "");
    try {
      await api("POST", "/api/setup", { token: token.value.trim(), username: username.value, password: password.value });
      onDone();
    } catch (err) { setError(error, err.message); }
  } },
    h("h1", {}, "Welcome to Doorstep"),
    h("p", {}, "Create the owner account. The setup token is printed on the console where the gateway runs."),
    field("Setup token", token), field("User name", username), field("Password (10+ characters)", password),
    error, h("button", { type: "submit" }, "Create owner"));
  show(form);
}

export function signInView(onDone) {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9 ]*" });
  const codeField = field("Code from your authenticator app", code);
  codeField.hidden = true;
  const error = errorBox();
  const form = h("form", { class: "card narrow", onsubmit: async (e) => {
    e.preventDefault();
    setError(error, "");
    try {
      await api("POST", "/api/session", { username: username.value, password: password.value, code: code.value || null });
      onDone();
    } catch (err) {
      if (err.code === "totp_required") { codeField.hidden = false; code.focus(); return; }
      setError(error, err.status === 429 ? `${err.message}.` : err.message);
    }
  } },
    h("h1", {}, "Sign in"), field("User name", username), field("Password", password), codeField,
    error, h("button", { type: "submit" }, "Sign in"));
  show(form);
}

function totpCard(me, onEnrolled) {
  const error = errorBox();
  const body = h("div", {});
  const start = h("button", { type: "button", onclick: async () => {
    setError(error, "");
    const started = await api("POST", "/api/me/totp");
    const code = h("input", { name: "totp-code", inputmode: "numeric", autocomplete: "one-time-code" });
    body.replaceChildren(
      h("p", {}, "Add this key to your authenticator app, then enter the code it shows."),
      h("p", {}, "Key: ", h("code", { id: "totp-secret" }, started.secret)),
      h("p", { class: "muted small" }, started.uri),
      h("form", { onsubmit: async (e) => {
        e.preventDefault();
        try { await api("POST", "/api/me/totp/confirm", { code: code.value }); onEnrolled(); }
        catch (err) { setError(error, err.message); }
      } }, field("Code", code), h("button", { type: "submit" }, "Turn on")));
  } }, me.totp_enrolled ? "Replace second factor" : "Set up a second factor");
  body.append(start);
  return h("section", { class: "card" }, h("h2", {}, "Second factor"),
    me.must_enroll_totp ? h("p", { class: "warning" }, "Owner accounts need a second factor before anything else.") : null,
    h("p", {}, me.totp_enrolled ? "On." : "Off."), body, error);
}

function passwordCard() {
  const old = h("input", { type: "password", autocomplete: "current-password", name: "old" });
  const fresh = h("input", { type: "password", autocomplete: "new-password", name: "new", minlength: 10 });
  const error = errorBox();
  const done = h("p", { class: "ok", hidden: true }, "Changed. Other sessions were signed out.");
  return h("section", { class: "card" }, h("h2", {}, "Password"),
    h("form", { onsubmit: async (e) => {
      e.preventDefault();
      setError(error, ""); done.hidden = true;
      try { await api("POST", "/api/me/password", { old: old.value, new: fresh.value }); done.hidden = false; }
      catch (err) { setError(error, err.message); }
    } }, field("Current password", old), field("New password", fresh), error, done,
      h("button", { type: "submit" }, "Change password")));
}

export async function settingsView(me, onEnrolled) {
  const cards = [h("h1", {}, "Settings"),
    h("section", { class: "card" }, h("h2", {}, "Account"), h("p", {}, `${me.username} (${me.role})`),
      ["owner", "resident"].includes(me.role) ? null
        : h("p", { class: "muted" }, "Cameras, events and live video are for the household (owner and residents).")),
    totpCard(me, onEnrolled)];
  if (!me.must_enroll_totp) cards.push(passwordCard());
  if (me.role === "owner" && !me.must_enroll_totp) {
    const health = await api("GET", "/api/health");
    cards.push(h("section", { class: "card" }, h("h2", {}, "Gateway"),
      h("dl", {}, h("dt", {}, "Version"), h("dd", {}, health.version),
        h("dt", {}, "Status"), h("dd", {}, health.status),
        h("dt", {}, "Storage"), h("dd", {}, `${health.storage.state} (schema ${health.storage.schema_version})`),
        h("dt", {}, "Drivers"), h("dd", {}, health.drivers.loaded.join(", ")),
        h("dt", {}, "Events dropped"), h("dd", {}, String(health.bus.dropped)))));
  }
  show(...cards);
}
