// Accounts (owner only): roles, the cameras each resident may see, disabling, deleting, and
// resetting someone's password or second factor.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { useLoad } from "../lib/load.js";
import { useStore } from "../lib/store.js";
import { roleLabel } from "../lib/words.js";
import { useConfirm } from "../components/dialogs.js";
import { Icon } from "../components/icons.js";
import { Done, ErrorText, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";

function Grants({ cameras, chosen, onChange }) {
  const toggle = (id) => onChange(chosen.includes(id) ? chosen.filter((c) => c !== id) : [...chosen, id]);
  return html`<fieldset class="grants">
    <legend>Cameras this account may see</legend>
    ${cameras.length ? cameras.map((c) => html`<label class="check" key=${c.id}>
      <input type="checkbox" value=${c.id} checked=${chosen.includes(c.id)} onChange=${() => toggle(c.id)} /><span>${c.name}</span></label>`)
      : html`<p class="muted">No cameras yet.</p>`}
  </fieldset>`;
}

function RoleHint({ meta, role }) {
  const known = meta?.roles.get(role);
  return known ? html`<ul class="may small">${known.may.map((line) => html`<li>${line}</li>`)}</ul>` : null;
}

function RoleSelect({ meta, name, value, onChange, ...rest }) {
  return html`<select name=${name} value=${value} onChange=${(e) => onChange(e.currentTarget.value)} ...${rest}>
    ${(meta?.roleList || []).map((r) => html`<option value=${r.role}>${r.label}</option>`)}
  </select>`;
}

function ResetPassword({ user, onDone }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try { await api("POST", `/api/users/${user.id}/password`, { password }); setPassword(""); onDone(`${user.username} gets this password and chooses a new one at the next sign-in.`); }
    catch (err) { setError(err); }
  };
  return html`<form class="inline-form" onSubmit=${submit}>
    <${Field} label="New password for them"><input type="password" name="reset-password" autocomplete="new-password"
      minlength="10" required value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} /></${Field}>
    <button type="submit" class="secondary">Set password</button>
    <${ErrorText} error=${error} />
  </form>`;
}

function UserCard({ user, me, meta, cameras, reload, ask }) {
  const [role, setRole] = useState(user.role);
  const [chosen, setChosen] = useState(user.cameras);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [resetting, setResetting] = useState(false);
  const self = user.id === me.user_id;
  const grants = meta?.roles.get(role)?.camera_grants;
  const run = async (action) => {
    setError(null);
    setDone(null);
    try { await action(); } catch (err) { setError(err); }
  };
  const save = () => run(async () => {
    await api("PATCH", `/api/users/${user.id}`, { role, cameras: grants ? chosen : [] });
    reload();
  });
  const toggle = () => run(async () => { await api("PATCH", `/api/users/${user.id}`, { disabled: !user.disabled }); reload(); });
  const remove = () => run(async () => {
    if (!await ask({ title: `Delete ${user.username}?`, text: "The account and its sessions are removed.", confirm: "Delete account" })) return;
    await api("DELETE", `/api/users/${user.id}`);
    reload();
  });
  const resetFactor = () => run(async () => {
    if (!await ask({ title: `Remove ${user.username}'s second factor?`, confirm: "Remove second factor",
      text: "Their authenticator app and recovery codes stop working. An owner or agency account must set up a new one at the next sign-in." })) return;
    await api("DELETE", `/api/users/${user.id}/totp`);
    setDone("Second factor removed.");
    reload();
  });
  return html`<section class="card user" data-user=${user.username}>
    <div class="card-head">
      <h2><${Icon} name="person" /> ${user.username}${self ? html` <span class="pill">you</span>` : null}</h2>
      <div class="pills">
        <span class="pill">${roleLabel(meta, user.role)}</span>
        ${user.disabled ? html`<span class="pill bad">disabled</span>` : null}
        <span class=${`pill ${user.totp_enrolled ? "ok" : ""}`}>${user.totp_enrolled ? "second factor on" : "no second factor"}</span>
        ${user.must_change_password ? html`<span class="pill">new password pending</span>` : null}
      </div>
    </div>
    <div class="user-edit">
      <${Field} label="Role"><${RoleSelect} meta=${meta} name="role" value=${role} onChange=${setRole} /></${Field}>
      <${RoleHint} meta=${meta} role=${role} />
    </div>
    ${grants ? html`<${Grants} cameras=${cameras} chosen=${chosen} onChange=${setChosen} />` : null}
    <${ErrorText} error=${error} />
    ${done ? html`<${Done}>${done}</${Done}>` : null}
    <div class="actions">
      <button type="button" onClick=${save}>Save</button>
      ${self ? null : html`<button type="button" class="secondary" onClick=${toggle}>${user.disabled ? "Enable" : "Disable"}</button>`}
      ${self ? null : html`<button type="button" class="secondary" aria-expanded=${resetting ? "true" : "false"} onClick=${() => setResetting(!resetting)}>Reset password</button>`}
      ${self || !user.totp_enrolled ? null : html`<button type="button" class="secondary" onClick=${resetFactor}>Remove second factor</button>`}
      ${self ? null : html`<button type="button" class="danger" onClick=${remove}>Delete</button>`}
    </div>
    ${resetting ? html`<${ResetPassword} user=${user} onDone=${(text) => { setResetting(false); setDone(text); reload(); }} />` : null}
  </section>`;
}

function NewUser({ meta, cameras, reload }) {
  const [form, setForm] = useState({ username: "", password: "", role: "resident", cameras: [] });
  const [error, setError] = useState(null);
  const grants = meta?.roles.get(form.role)?.camera_grants;
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api("POST", "/api/users", { username: form.username, password: form.password, role: form.role, cameras: grants ? form.cameras : [] });
      setForm({ username: "", password: "", role: "resident", cameras: [] });
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="card" id="new-user" onSubmit=${submit}>
    <h2><${Icon} name="plus" /> Add an account</h2>
    <div class="form-grid">
      <${Field} label="User name"><input name="new-username" required autocomplete="off" autocapitalize="none"
        value=${form.username} onInput=${(e) => setForm({ ...form, username: e.currentTarget.value })} /></${Field}>
      <${Field} label="Password" hint="At least 10 characters; they can change it later."><input name="new-password" type="password" required minlength="10"
        autocomplete="new-password" value=${form.password} onInput=${(e) => setForm({ ...form, password: e.currentTarget.value })} /></${Field}>
      <${Field} label="Role"><${RoleSelect} meta=${meta} name="new-role" value=${form.role} onChange=${(role) => setForm({ ...form, role })} /></${Field}>
    </div>
    <${RoleHint} meta=${meta} role=${form.role} />
    ${grants ? html`<${Grants} cameras=${cameras} chosen=${form.cameras} onChange=${(list) => setForm({ ...form, cameras: list })} />` : null}
    <${ErrorText} error=${error} />
    <button type="submit">Add</button>
  </form>`;
}

/** The users page. */
export function UsersView() {
  const me = useStore((s) => s.me);
  const meta = useStore((s) => s.meta);
  const [dialog, ask] = useConfirm();
  const { data, error, reload } = useLoad(async (signal) => {
    const [users, cams] = await Promise.all([api("GET", "/api/users", undefined, { signal }), api("GET", "/api/cameras", undefined, { signal })]);
    return { users: users.users, cameras: cams.cameras };
  }, []);
  if (error && !data) return html`<${LoadFailed} error=${error} retry=${reload} />`;
  if (!data) return html`<${Loading} />`;
  return html`<div class="page users">
    <${PageHead} title="Users" subtitle="Who may use this gateway, and what they see." />
    <div class="columns">
      ${data.users.map((u) => html`<${UserCard} key=${`${u.id}:${u.role}:${u.disabled}:${u.cameras.join(",")}`} user=${u} me=${me} meta=${meta}
        cameras=${data.cameras} reload=${reload} ask=${ask} />`)}
      <${NewUser} meta=${meta} cameras=${data.cameras} reload=${reload} />
    </div>
    ${dialog}
  </div>`;
}
