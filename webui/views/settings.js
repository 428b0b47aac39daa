// Settings: one's own account (password, second factor), this device's ring, and the gateway's
// health for the owner.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { useLoad } from "../lib/load.js";
import { goFrom } from "../lib/router.js";
import { refreshMe } from "../lib/session.js";
import { setMuted } from "../lib/ringtone.js";
import { useStore } from "../lib/store.js";
import { inHousehold } from "../lib/words.js";
import { useMuted } from "../components/ring-banner.js";
import { Icon } from "../components/icons.js";
import { Done, ErrorText, Field, PageHead } from "../components/ui.js";
import { SettingsNav } from "../components/settings-nav.js";
import { SecondFactorCard } from "./second-factor.js";

function AccountCard({ me, meta }) {
  const role = meta?.roles.get(me.role);
  return html`<section class="card">
    <h2><${Icon} name="person" /> Account</h2>
    <p class="account-line"><strong>${me.username}</strong> · ${role ? role.label : me.role}</p>
    ${role ? html`<ul class="may">${role.may.map((line) => html`<li>${line}</li>`)}</ul>` : null}
    ${inHousehold(meta, me.role) ? null
      : html`<p class="muted">Cameras, events and live video are for the household (owner and residents).</p>`}
  </section>`;
}

function PasswordCard({ me }) {
  const [old, setOld] = useState("");
  const [fresh, setFresh] = useState("");
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      await api("POST", "/api/me/password", { old, new: fresh });
      setDone(true);
      setOld("");
      setFresh("");
      if (me.must_change_password) await refreshMe();
    } catch (err) {
      setError(err);
    }
  };
  return html`<section class="card" id="password">
    <h2><${Icon} name="lock" /> Password</h2>
    ${me.must_change_password ? html`<p class="warning">The owner set a new password for you: choose your own now.</p>` : null}
    <form onSubmit=${submit}>
      <${Field} label="Current password"><input type="password" name="old" autocomplete="current-password" required
        value=${old} onInput=${(e) => setOld(e.currentTarget.value)} /></${Field}>
      <${Field} label="New password" hint="At least 10 characters. Your other sessions are signed out.">
        <input type="password" name="new" autocomplete="new-password" minlength="10" required
        value=${fresh} onInput=${(e) => setFresh(e.currentTarget.value)} /></${Field}>
      <${ErrorText} error=${error} />
      ${done ? html`<${Done}>Changed. Other sessions were signed out.</${Done}>` : null}
      <button type="submit">Change password</button>
    </form>
  </section>`;
}

function DeviceCard() {
  const muted = useMuted();
  const supported = "Notification" in window;
  const [permission, setPermission] = useState(supported ? Notification.permission : "unsupported");
  const ask = async () => setPermission(await Notification.requestPermission());
  return html`<section class="card">
    <h2><${Icon} name="bell" /> This browser</h2>
    <label class="switch">
      <input type="checkbox" name="chime" checked=${!muted} onChange=${(e) => setMuted(!e.currentTarget.checked)} />
      <span>Play a chime when someone rings while Doorstep is open</span>
    </label>
    <p class="muted small">While this tab is in the background, a ring can also show a system notification.
      With Doorstep closed or the phone locked, <a href="#/notifications">Notifications</a> rings it.</p>
    ${permission === "granted" ? html`<p><span class="pill ok">Allowed</span> Notifications are allowed for this tab.</p>`
      : permission === "denied" ? html`<p><span class="pill">Blocked</span> Notifications are blocked: allow them in the browser's site settings.</p>`
      : permission === "unsupported" ? html`<p class="muted">This browser shows no notifications.</p>`
      : html`<button type="button" class="secondary" onClick=${ask}>Allow notifications in this browser</button>`}
  </section>`;
}

function GatewayCard() {
  const { data: health, error } = useLoad((signal) => api("GET", "/api/health", undefined, { signal }), []);
  return html`<section class="card">
    <h2><${Icon} name="home" /> Gateway</h2>
    <${ErrorText} error=${error} />
    ${health ? html`<dl class="facts">
      <dt>Version</dt><dd>${health.version}</dd>
      <dt>Status</dt><dd>${health.status === "ok" ? "All good" : "Needs attention: a camera, a driver or the storage has a problem"}</dd>
      <dt>Storage</dt><dd>${health.storage.state} (schema ${health.storage.schema_version})</dd>
      <dt>Drivers</dt><dd>${health.drivers.loaded.join(", ")}</dd>
      <dt>Events dropped</dt><dd>${String(health.bus.dropped)}</dd>
    </dl>` : null}
  </section>`;
}

/** The settings page. */
export function SettingsView() {
  const me = useStore((s) => s.me);
  const meta = useStore((s) => s.meta);
  const enrolled = async () => {
    await refreshMe();
    goFrom("settings", "#/cameras");
  };
  const household = inHousehold(meta, me.role);
  const full = !me.must_enroll_totp;
  return html`<div class="page settings">
    <${SettingsNav} page="settings" />
    <${PageHead} title="Settings" />
    <div class="columns">
      <${AccountCard} me=${me} meta=${meta} />
      <${SecondFactorCard} me=${me} onEnrolled=${enrolled} />
      ${full ? html`<${PasswordCard} me=${me} />` : null}
      ${full && household ? html`<${DeviceCard} />` : null}
      ${full && me.role === "owner" ? html`<${GatewayCard} />` : null}
    </div>
  </div>`;
}
