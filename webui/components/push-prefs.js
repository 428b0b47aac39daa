// What one device is told about: per camera the ring (on unless turned off), motion and people
// (off unless turned on), and quiet hours that silence motion and people but never a ring.
// The shape is the gateway's push preferences: {cameras: {id: kinds}, default: kinds, quiet_hours}.
import { html, useId } from "../lib/html.js";

export const KINDS = [
  { kind: "ring", label: "Doorbell rings" },  // a camera without a button never rings
  { kind: "motion", label: "Motion" },
  { kind: "person", label: "People" },
];

/** The preferences a device starts with: every camera rings, nothing else, no quiet hours. */
export function defaultPrefs() {
  return { cameras: {}, default: { ring: true, motion: false, person: false }, quiet_hours: null };
}

/** What one camera tells the device ({ring, motion, person}). */
export function cameraChoice(prefs, cameraId) {
  return prefs.cameras[cameraId] || prefs.default;
}

function same(a, b) {
  return KINDS.every(({ kind }) => Boolean(a[kind]) === Boolean(b[kind]));
}

/** `prefs` with one camera's choice changed (a camera that matches the default is not listed). */
export function withChoice(prefs, cameraId, choice) {
  const cameras = { ...prefs.cameras };
  if (same(choice, prefs.default)) delete cameras[cameraId];
  else cameras[cameraId] = { ring: Boolean(choice.ring), motion: Boolean(choice.motion), person: Boolean(choice.person) };
  return { ...prefs, cameras };
}

/** A short sentence of what a device is told ("Rings from 2 cameras; motion from Garden"). */
export function prefsSentence(prefs, cameras) {
  const named = (kind) => cameras.filter((c) => cameraChoice(prefs, c.id)[kind]).map((c) => c.name);
  const rings = named("ring");
  const parts = [rings.length === cameras.length ? "Every ring" : rings.length ? `Rings at ${rings.join(", ")}` : "No rings"];
  const motion = named("motion");
  const people = named("person");
  if (motion.length) parts.push(`motion at ${motion.join(", ")}`);
  if (people.length) parts.push(`people at ${people.join(", ")}`);
  let text = parts.join("; ");
  if (prefs.quiet_hours) text += `; quiet ${prefs.quiet_hours.start}–${prefs.quiet_hours.end}`;
  return text;
}

function CameraChoice({ camera, choice, disabled, onChange }) {
  return html`<fieldset class="push-camera" data-camera=${camera.id}>
    <legend>${camera.name}</legend>
    <div class="push-kinds">
      ${KINDS.map(({ kind, label }) => html`<label class="check" key=${kind}>
        <input type="checkbox" name=${`push-${kind}`} checked=${Boolean(choice[kind])} disabled=${disabled}
          onChange=${(e) => onChange({ ...choice, [kind]: e.currentTarget.checked })} /><span>${label}</span></label>`)}
    </div>
  </fieldset>`;
}

function QuietHours({ quiet, disabled, onChange }) {
  const id = useId();
  const on = quiet !== null;
  return html`<fieldset class="push-quiet">
    <legend>Quiet hours</legend>
    <label class="check"><input type="checkbox" name="quiet-on" checked=${on} disabled=${disabled} aria-describedby=${`${id}-hint`}
      onChange=${(e) => onChange(e.currentTarget.checked ? { start: "22:00", end: "07:00" } : null)} />
      <span>Keep motion and people quiet at night</span></label>
    ${on ? html`<div class="quiet-times">
      <div class="field"><label for=${`${id}-start`}>From</label><input id=${`${id}-start`} type="time" name="quiet-start" required
        value=${quiet.start} disabled=${disabled} onInput=${(e) => onChange({ ...quiet, start: e.currentTarget.value })} /></div>
      <div class="field"><label for=${`${id}-end`}>Until</label><input id=${`${id}-end`} type="time" name="quiet-end" required
        value=${quiet.end} disabled=${disabled} onInput=${(e) => onChange({ ...quiet, end: e.currentTarget.value })} /></div>
    </div>` : null}
    <p class="hint" id=${`${id}-hint`}>Quiet hours silence motion and people only: <strong>a ring still rings</strong>, because
      someone is at the door. Times are the gateway's clock.</p>
  </fieldset>`;
}

/** The editor: one row of choices per camera the account sees, then quiet hours. */
export function PushPrefsEditor({ cameras, prefs, disabled = false, onChange }) {
  return html`<div class="push-prefs">
    <p class="push-prefs-title">What this device is told</p>
    ${cameras.length ? html`<div class="push-cameras">
      ${cameras.map((camera) => html`<${CameraChoice} key=${camera.id} camera=${camera} disabled=${disabled}
        choice=${cameraChoice(prefs, camera.id)} onChange=${(choice) => onChange(withChoice(prefs, camera.id, choice))} />`)}
    </div>` : html`<p class="muted">No cameras yet: every ring will be sent once there are some.</p>`}
    <${QuietHours} quiet=${prefs.quiet_hours} disabled=${disabled} onChange=${(quiet_hours) => onChange({ ...prefs, quiet_hours })} />
  </div>`;
}
