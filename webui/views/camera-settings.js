// A camera's settings (owner only): its name, whether Doorstep uses it, the stream live view
// opens, how it records, its credentials, and its driver's options (drawn from the schema the
// driver declares).
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { useLoad } from "../lib/load.js";
import { putCamera } from "../lib/store.js";
import { Icon } from "../components/icons.js";
import { Done, ErrorText, Field, Loading } from "../components/ui.js";

const STREAM_WORDS = { main: "Main stream (best picture)", sub: "Sub stream (lighter, for slow Wi-Fi)" };

function kindOf(schema) {
  const plain = schema.anyOf ? schema.anyOf.find((s) => s.type !== "null") || {} : schema;
  if (plain.enum) return { kind: "enum", values: plain.enum };
  return { kind: plain.type || "string", min: plain.minimum, max: plain.maximum };
}

/** "motion_auto_clear_s" → "Motion auto clear (s)" (pydantic's titles keep the unit's letter). */
function optionLabel(name) {
  const words = name.replace(/_s$/, " (s)").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function OptionField({ name, schema, value, onChange, disabled }) {
  const { kind, values, min, max } = kindOf(schema);
  const label = optionLabel(name);
  const shown = value ?? schema.default ?? "";
  if (kind === "boolean") {
    return html`<label class="check wide-field"><input type="checkbox" name=${`option-${name}`} checked=${Boolean(shown)}
      disabled=${disabled} onChange=${(e) => onChange(e.currentTarget.checked)} /><span>${label}${schema.description ? html`<span class="hint"> ${schema.description}</span>` : null}</span></label>`;
  }
  let input;
  if (kind === "enum") {
    input = html`<select name=${`option-${name}`} value=${String(shown)} disabled=${disabled} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${values.map((v) => html`<option value=${String(v)}>${String(v)}</option>`)}</select>`;
  } else if (kind === "number" || kind === "integer") {
    input = html`<input name=${`option-${name}`} type="number" step=${kind === "integer" ? 1 : "any"} min=${min} max=${max}
      value=${String(shown)} disabled=${disabled} onInput=${(e) => onChange(e.currentTarget.value === "" ? null : Number(e.currentTarget.value))} />`;
  } else {
    input = html`<input name=${`option-${name}`} value=${String(shown)} disabled=${disabled} autocapitalize="none"
      onInput=${(e) => onChange(e.currentTarget.value === "" ? null : e.currentTarget.value)} />`;
  }
  return html`<${Field} label=${label} hint=${schema.description}>${input}</${Field}>`;
}

function changesOf(form, settings) {
  const body = {};
  for (const key of ["name", "enabled", "live_stream", "rtsp_allow_basic", "username"]) {
    if (form[key] !== settings[key]) body[key] = form[key];
  }
  if (form.password) body.password = form.password;
  const options = {};
  for (const [key, value] of Object.entries(form.options)) if (value !== (settings.options[key] ?? null)) options[key] = value;
  if (Object.keys(options).length) body.options = options;
  const recording = {};
  for (const [key, value] of Object.entries(form.recording)) if (value !== (settings.recording[key] ?? null)) recording[key] = value;
  if (Object.keys(recording).length) body.recording = recording;
  return body;
}

const MODE_WORDS = { events: "On events", continuous: "Around the clock", off: "Never" };
const RECORDING_NUMBERS = [
  ["preroll_s", "Keep from before an event (s)", 0, 30, "any"],
  ["postroll_s", "Keep after it ends (s)", 0, 300, "any"],
  ["clip_days", "Keep event clips (days)", 1, 3650, 1],
  ["continuous_days", "Keep around-the-clock video (days)", 1, 3650, 1],
];

/** How this camera records: each field follows the gateway's setting until one is chosen here. */
function RecordingFields({ form, defaults, disabled, onChange }) {
  const value = form.recording;
  const set = (key, v) => onChange({ ...value, [key]: v });
  const dflt = (key, words = (v) => String(v)) => (key in defaults ? `Default: ${words(defaults[key])}` : "Default");
  const audio = value.audio === true ? "on" : value.audio === false ? "off" : "";
  return html`<fieldset class="options recording-options"><legend>Recording</legend>
    <${Field} label="Record"><select name="recording-mode" value=${value.mode ?? ""} disabled=${disabled}
      onChange=${(e) => set("mode", e.currentTarget.value || null)}>
      <option value="">${dflt("mode", (m) => (MODE_WORDS[m] || m).toLowerCase())}</option>
      ${Object.entries(MODE_WORDS).map(([m, words]) => html`<option value=${m}>${words}</option>`)}</select></${Field}>
    <${Field} label="Sound"><select name="recording-audio" value=${audio} disabled=${disabled}
      onChange=${(e) => set("audio", e.currentTarget.value === "" ? null : e.currentTarget.value === "on")}>
      <option value="">${dflt("audio", (a) => (a ? "kept" : "not kept"))}</option>
      <option value="on">Keep the camera's sound</option><option value="off">Video only</option></select></${Field}>
    ${RECORDING_NUMBERS.map(([key, label, min, max, step]) => html`<${Field} key=${key} label=${label}>
      <input name=${`recording-${key}`} type="number" min=${min} max=${max} step=${step} value=${value[key] ?? ""}
        placeholder=${key in defaults ? String(defaults[key]) : ""} disabled=${disabled}
        onInput=${(e) => set(key, e.currentTarget.value === "" ? null : Number(e.currentTarget.value))} /></${Field}>`)}
    <p class="muted small">"Default" and empty fields follow the gateway's Recording and Retention settings. On events, a doorbell press always records.</p>
  </fieldset>`;
}

function SettingsForm({ settings, saved, onSaved, onEdit }) {
  const [form, setForm] = useState({ ...settings, password: "", options: { ...settings.options }, recording: { ...settings.recording } });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const may = (field) => settings.editable.includes(field);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    onEdit();
    const body = changesOf(form, settings);
    if (!Object.keys(body).length) { onSaved({ changed: false }); return; }
    setBusy(true);
    try {
      putCamera(await api("PATCH", `/api/cameras/${encodeURIComponent(settings.id)}`, body));
      onSaved({ changed: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const schema = settings.options_schema?.properties || {};
  const streams = settings.streams.length ? settings.streams : [settings.live_stream];
  return html`<form class="settings-form" onSubmit=${submit}>
    <${Field} label="Name"><input name="camera-name" required maxlength="100" value=${form.name} disabled=${!may("name")} onInput=${set("name")} /></${Field}>
    <label class="check"><input type="checkbox" name="enabled" checked=${form.enabled} disabled=${!may("enabled")} onChange=${set("enabled")} />
      <span>Doorstep uses this camera (off: it stops; its activity and who may see it are kept)</span></label>
    <${Field} label="Live view opens"><select name="live-stream" value=${form.live_stream} disabled=${!may("live_stream")} onChange=${set("live_stream")}>
      ${streams.map((s) => html`<option value=${s}>${STREAM_WORDS[s] || s}</option>`)}</select></${Field}>
    <${Field} label="User name on the camera"><input name="camera-username" autocomplete="off" autocapitalize="none" value=${form.username || ""}
      disabled=${!may("username")} onInput=${set("username")} /></${Field}>
    <${Field} label="Password on the camera" hint=${settings.password_set ? "Stored (never shown). Type a new one to change it; it is checked with the camera first." : "None stored."}>
      <input name="camera-password" type="password" autocomplete="new-password" value=${form.password} disabled=${!may("password")} onInput=${set("password")} /></${Field}>
    <label class="check"><input type="checkbox" name="camera-basic" checked=${form.rtsp_allow_basic} disabled=${!may("rtsp_allow_basic")} onChange=${set("rtsp_allow_basic")} />
      <span>Allow the password to be sent unencrypted if the stream asks for it (RTSP Basic)</span></label>
    <${RecordingFields} form=${form} defaults=${settings.recording_defaults || {}} disabled=${!may("recording.mode")}
      onChange=${(recording) => setForm({ ...form, recording })} />
    ${Object.keys(schema).length ? html`<fieldset class="options"><legend>Driver options</legend>
      ${Object.entries(schema).map(([name, s]) => html`<${OptionField} key=${name} name=${name} schema=${s} value=${form.options[name]}
        disabled=${!may("options")} onChange=${(v) => setForm({ ...form, options: { ...form.options, [name]: v } })} />`)}
    </fieldset>` : null}
    ${settings.source === "config" ? html`<p class="muted small">This camera comes from the config file: what you change here
      overrides the file${settings.overridden.length ? ` (now: ${settings.overridden.join(", ")})` : ""}, until that line of the file is edited.</p>` : null}
    <${ErrorText} error=${error} />
    ${saved ? html`<${Done}>Saved.</${Done}>` : null}
    <button type="submit" disabled=${busy}>${busy ? "Saving…" : "Save settings"}</button>
  </form>`;
}

/** The settings card of the camera page (owner only). */
export function CameraSettingsCard({ cameraId }) {
  // "Saved." lives here: the form is made anew from the settings read back after a save.
  const [saved, setSaved] = useState(false);
  const { data, error, reload } = useLoad((signal) => api("GET", `/api/cameras/${encodeURIComponent(cameraId)}/settings`, undefined, { signal }), [cameraId]);
  return html`<details class="card camera-settings" id="camera-settings">
    <summary><${Icon} name="settings" /> Settings <span class="summary-hint">name, stream, recording, password</span></summary>
    ${error ? html`<${ErrorText} error=${error} />` : !data ? html`<${Loading} />`
      : html`<${SettingsForm} key=${JSON.stringify(data)} settings=${data} saved=${saved}
          onEdit=${() => setSaved(false)} onSaved=${({ changed }) => { setSaved(true); if (changed) reload(); }} />`}
  </details>`;
}
