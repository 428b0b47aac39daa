// Notifications (every household member): Web Push on this device (on/off, its name, what it is
// told, quiet hours, a test), the account's other devices, installing the app, and for the owner
// the household-wide switch. Push is the one thing that leaves the home network: said where offered.
import { api } from "../lib/api.js";
import { when } from "../lib/format.js";
import { html, useEffect, useState } from "../lib/html.js";
import { useLoad, useUnmountSignal } from "../lib/load.js";
import { useStore } from "../lib/store.js";
import {
  canInstall, currentSubscription, disablePush, enablePush, installApp, isInstalled, isIos,
  pushSupport, testPush, updatePush,
} from "../pwa.js";
import { useConfirm } from "../components/dialogs.js";
import { Icon } from "../components/icons.js";
import { defaultPrefs, PushPrefsEditor, prefsSentence } from "../components/push-prefs.js";
import { SettingsNav } from "../components/settings-nav.js";
import { Done, ErrorText, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";

const STATE_WORDS = {
  supported: "Available", "needs-https": "Needs a secure address", "needs-install": "Install the app first",
  denied: "Blocked in this browser", unsupported: "Not available here", off: "Turned off by the owner",
};

/** A name for this device the person can keep or change ("Chrome on Android"). */
export function guessLabel(ua = navigator.userAgent) {
  const browser = /Edg\//.test(ua) ? "Edge" : /SamsungBrowser/.test(ua) ? "Samsung Internet" : /Firefox\//.test(ua) ? "Firefox"
    : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const system = /iPhone/.test(ua) ? "iPhone" : /iPad/.test(ua) || isIos() ? "iPad" : /Android/.test(ua) ? "Android"
    : /Windows/.test(ua) ? "Windows" : /CrOS/.test(ua) ? "ChromeOS" : /Mac OS X/.test(ua) ? "Mac" : /Linux/.test(ua) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

/** Where push is offered: what leaves the home network, in words. */
function LeavesTheHome() {
  return html`<p class="push-privacy small"><${Icon} name="offline" size=${18} /><span>Notifications reach a device through its
    browser maker's push service (Google for Chrome and Android, Apple for iPhone and Safari, Mozilla for Firefox, Microsoft
    for Edge): <strong>the one thing Doorstep sends outside your home network</strong>. Each message is encrypted for the
    device; the snapshot stays on the gateway. The owner can turn push off for everyone.</span></p>`;
}

function useInstallable() {
  const [installable, setInstallable] = useState(canInstall());
  useEffect(() => {
    const changed = () => setInstallable(canInstall());
    window.addEventListener("doorstep:install-change", changed);
    return () => window.removeEventListener("doorstep:install-change", changed);
  }, []);
  return installable;
}

function InstallRow({ state }) {
  const installable = useInstallable();
  if (isInstalled()) return html`<p class="muted small">Doorstep runs as an installed app on this device.</p>`;
  if (state === "needs-install") return null;  // its message says how already
  if (isIos()) {
    return html`<p class="muted small">To install on iPhone or iPad: open Doorstep in Safari, tap Share, then
      <strong>Add to Home Screen</strong>, and open it from the new icon.</p>`;
  }
  if (!installable) return null;
  return html`<div class="install-row"><p class="small">Install Doorstep to give it its own icon and window.</p>
    <button type="button" class="secondary" id="install-app" onClick=${() => installApp()}>
      <${Icon} name="plus" /> Install app</button></div>`;
}

function TestResult({ result }) {
  if (!result) return null;
  if (result.delivered) return html`<${Done}>Sent: it should show on the device in a moment.</${Done}>`;
  const text = result.outcome === "gone" ? "The push service says this device is gone, so Doorstep forgot it"
    : `Not delivered: ${result.reason || result.outcome}`;
  return html`<${ErrorText} error=${text} />`;
}

function ThisDevice({ support, mine, cameras, reload }) {
  const [label, setLabel] = useState(mine?.label || guessLabel());
  const [prefs, setPrefs] = useState(mine?.prefs || defaultPrefs());
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [tested, setTested] = useState(null);
  const run = (what, action) => async (e) => {
    e?.preventDefault();
    setBusy(what);
    setError(null);
    setDone(null);
    setTested(null);
    try { await action(); } catch (err) { setError(err); } finally { setBusy(null); }
  };
  const turnOn = run("on", async () => { await enablePush({ label: label.trim(), prefs }); reload(); });
  const save = run("save", async () => { await updatePush(mine.id, { label: label.trim(), prefs }); setDone("Saved."); reload(); });
  const test = run("test", async () => {
    const result = await testPush(mine.id);
    setTested(result);
    if (result.outcome === "gone") reload();
  });
  const turnOff = run("off", async () => { await disablePush(); reload(); });
  const available = support.state === "supported";
  return html`<section class="card push-device" id="this-device" data-push=${mine ? "on" : available ? "off" : support.state}>
    <div class="card-head">
      <h2><${Icon} name="bell" /> This device</h2>
      <span class=${`pill ${!available ? "bad" : mine ? "ok" : ""}`}>${!available ? STATE_WORDS[support.state] : mine ? "Notifications on" : "Notifications off"}</span>
    </div>
    ${available ? null : html`<p class="push-state" data-state=${support.state}>${support.message}</p>`}
    ${available && !mine ? html`<p>Get a notification when someone rings, even when Doorstep is closed or the phone is locked.</p>` : null}
    ${mine ? html`<p class="muted small">${prefsSentence(mine.prefs, cameras)}.</p>` : null}
    ${!available && mine ? html`<p class="muted small">This device stays on your list and rings again when push is back on.</p>
      <div class="actions push-off-row"><button type="button" class="secondary" id="push-off" disabled=${busy !== null} onClick=${turnOff}>
        Turn off on this device</button></div>` : null}
    <${InstallRow} state=${support.state} />
    ${available ? html`<form onSubmit=${mine ? save : turnOn}>
      <${Field} label="Name of this device" hint="So you can tell your devices apart below.">
        <input name="device-label" maxlength="64" autocomplete="off" value=${label} onInput=${(e) => setLabel(e.currentTarget.value)} /></${Field}>
      <${PushPrefsEditor} cameras=${cameras} prefs=${prefs} disabled=${busy !== null} onChange=${setPrefs} />
      <${LeavesTheHome} />
      <${ErrorText} error=${error} />
      ${done ? html`<${Done}>${done}</${Done}>` : null}
      <${TestResult} result=${tested} />
      <div class="actions">
        ${mine ? html`
          <button type="submit" disabled=${busy !== null}>${busy === "save" ? "Saving…" : "Save"}</button>
          <button type="button" class="secondary" id="push-test" disabled=${busy !== null} onClick=${test}>
            <${Icon} name="send" /> ${busy === "test" ? "Sending…" : "Send a test"}</button>
          <button type="button" class="secondary push-off" id="push-off" disabled=${busy !== null} onClick=${turnOff}>Turn off on this device</button>`
        : html`<button type="submit" id="push-on" disabled=${busy !== null}>${busy === "on" ? "Turning on…" : "Turn on notifications"}</button>`}
      </div>
    </form>` : html`<${LeavesTheHome} />`}
  </section>`;
}

function OtherDevice({ device, ask, reload }) {
  const [error, setError] = useState(null);
  const [tested, setTested] = useState(null);
  const [busy, setBusy] = useState(false);
  const act = async (action) => {
    setBusy(true);
    setError(null);
    setTested(null);
    try { await action(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const remove = () => act(async () => {
    const name = device.label || "this device";
    if (!await ask({ title: `Remove ${name}?`, text: "It gets no more notifications until it is turned on there again.", confirm: "Remove" })) return;
    await disablePush(device.id);
    reload();
  });
  const test = () => act(async () => setTested(await testPush(device.id)));
  return html`<li class="push-other" data-device=${String(device.id)}>
    <div class="push-other-head">
      <div class="push-other-name"><strong>${device.label || "Unnamed device"}</strong>
        <span class="muted small">via ${device.endpoint_host} · added ${when(device.created_at)}</span></div>
      <div class="push-other-actions">
        <button type="button" class="secondary small" disabled=${busy} onClick=${test}>Test</button>
        <button type="button" class="danger small" disabled=${busy} onClick=${remove}>Remove</button>
      </div>
    </div>
    <p class="muted small push-other-last">${device.last_success_at ? `Last notification delivered ${when(device.last_success_at)}.` : "No notification delivered yet."}
      ${device.last_error ? ` Last problem${device.last_error_at ? ` (${when(device.last_error_at)})` : ""}: ${device.last_error}.` : ""}</p>
    <${ErrorText} error=${error} />
    <${TestResult} result=${tested} />
  </li>`;
}

function OtherDevices({ devices, ask, reload }) {
  return html`<section class="card" id="other-devices">
    <h2><${Icon} name="phone" /> Your other devices</h2>
    ${devices.length ? html`<ul class="push-others">${devices.map((d) => html`<${OtherDevice} key=${d.id} device=${d} ask=${ask} reload=${reload} />`)}</ul>`
      : html`<p class="muted">None. Turn notifications on in Doorstep on each phone, tablet or computer that should ring.</p>`}
  </section>`;
}

function HouseholdSwitch({ onChanged }) {
  const signal = useUnmountSignal();
  const { data: loaded, error } = useLoad((s) => api("GET", "/api/push/settings", undefined, { signal: s }), []);
  const [answer, setAnswer] = useState(null);
  const [pending, setPending] = useState(null);  // the switch as asked while the gateway decides
  const [failed, setFailed] = useState(null);
  const data = answer || loaded;
  const toggle = async (enabled) => {
    setPending(enabled);
    setFailed(null);
    try { setAnswer(await api("PUT", "/api/push/settings", { enabled }, { signal })); onChanged(); }
    catch (err) { setFailed(err); } finally { setPending(null); }
  };
  const busy = pending !== null;
  return html`<section class="card" id="push-household">
    <h2><${Icon} name="home" /> Push for the household</h2>
    <${ErrorText} error=${error || failed} />
    ${data ? html`
      <label class="switch"><input type="checkbox" name="push-enabled" checked=${busy ? pending : data.enabled} disabled=${busy}
        onChange=${(e) => toggle(e.currentTarget.checked)} />
        <span>Send push notifications to the household's devices</span></label>
      <p class="muted small">Push is the only thing Doorstep sends off your home network. Off: nothing more is sent from that
        moment, and no device can turn notifications on. Changing it asks for your password again and is in the audit log.</p>
      ${data.problem ? html`<p class="warning" id="push-problem">Push cannot work now: ${data.problem}.</p>`
        : html`<p class="small"><span class=${`pill ${data.active ? "ok" : ""}`}>${data.active ? "Sending" : "Off"}</span></p>`}` : null}
  </section>`;
}

/** The notifications page. */
export function NotificationsView() {
  const me = useStore((s) => s.me);
  const cameras = useStore((s) => s.cameras) || [];
  const [dialog, ask] = useConfirm();
  const { data, error, reload } = useLoad(async (signal) => {
    const support = await pushSupport();
    const mine = await currentSubscription();  // also while the owner has push off: still this device's
    const { subscriptions } = await api("GET", "/api/push/subscriptions", undefined, { signal });
    return { support, mine, others: subscriptions.filter((s) => s.id !== mine?.id) };
  }, []);
  return html`<div class="page notifications">
    <${SettingsNav} page="notifications" />
    <${PageHead} title="Notifications" subtitle="Which of your devices ring when someone is at the door." />
    ${error && !data ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />` : html`<div class="columns">
      <${ThisDevice} key=${`${data.mine?.id}:${data.support.state}`} support=${data.support} mine=${data.mine} cameras=${cameras} reload=${reload} />
      <${OtherDevices} devices=${data.others} ask=${ask} reload=${reload} />
      ${me.role === "owner" ? html`<${HouseholdSwitch} onChanged=${reload} />` : null}
    </div>`}
    ${dialog}
  </div>`;
}
