// The form for an outgoing webhook rule (new or changed): name, URL, which events and cameras,
// whether ends are sent too, and an optional JSON body template with the documented fields.
import { html, useState } from "../lib/html.js";
import { kindLabel } from "../lib/words.js";
import { ErrorText, Field } from "./ui.js";

const SHOWN = 6;  // kinds in view at first (the API lists the common ones first), the rest folded

function toggled(list, value) {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

function sameSet(a, b) {
  return a.length === b.length && a.every((v) => b.includes(v));
}

/** The form's starting values: a new rule's, or an existing rule's. */
function initialForm(rule, defaultTemplate) {
  if (!rule) {
    return { name: "", url: "", kinds: ["doorbell"], cameras: [], include_ends: false, enabled: true,
      custom: false, template: defaultTemplate };
  }
  return { name: rule.name, url: rule.url, kinds: rule.kinds, cameras: rule.cameras, include_ends: rule.include_ends,
    enabled: rule.enabled, custom: rule.template !== defaultTemplate, template: rule.template };
}

/** The request body: everything for a new rule, only what changed for an existing one. */
export function webhookBody(form, rule, defaultTemplate) {
  const template = form.custom ? form.template : defaultTemplate;
  if (!rule) {
    return { name: form.name.trim(), url: form.url.trim(), kinds: form.kinds, cameras: form.cameras,
      include_ends: form.include_ends, enabled: form.enabled, template: form.custom ? template : null };
  }
  const body = {};
  if (form.name.trim() !== rule.name) body.name = form.name.trim();
  if (form.url.trim() !== rule.url) body.url = form.url.trim();
  if (!sameSet(form.kinds, rule.kinds)) body.kinds = form.kinds;
  if (!sameSet(form.cameras, rule.cameras)) body.cameras = form.cameras;
  if (form.include_ends !== rule.include_ends) body.include_ends = form.include_ends;
  if (template !== rule.template) body.template = template;
  return body;
}

/** Why the form cannot be sent yet (checked before asking the gateway), or null. */
function problem(form) {
  if (!form.kinds.length) return "Choose at least one kind of event";
  if (form.custom) {
    try { JSON.parse(form.template); } catch (err) { return `The template is not valid JSON (${err.message})`; }
  }
  return null;
}

function KindChoice({ kind, meta, form, setForm }) {
  return html`<label class="check"><input type="checkbox" name="webhook-kind" value=${kind} checked=${form.kinds.includes(kind)}
    onChange=${() => setForm({ ...form, kinds: toggled(form.kinds, kind) })} /><span>${kindLabel(meta, kind)}</span></label>`;
}

/** The template fields as a list the owner can read while writing. */
export function TemplateFields({ fields }) {
  return html`<details class="raw template-fields"><summary>Fields you can use</summary>
    <dl class="fields-list">${fields.map((f) => html`<div class="fields-item" key=${f.name}>
      <dt><code>${"${" + f.name + "}"}</code></dt><dd>${f.description}. <span class="muted">Example: <code>${f.example}</code></span></dd></div>`)}
    </dl>
    <p class="small muted">Placeholders work inside JSON strings; write <code>$$</code> for a dollar sign.
      Each request is signed: <code>X-Doorstep-Signature</code> is <code>sha256=</code> and the HMAC-SHA256 of
      <code>timestamp.body</code> with the rule's secret.</p>
  </details>`;
}

/** The form; `onSubmit(body)` sends it (and may throw the API's error). */
export function WebhookForm({ rule = null, meta, kinds, cameras, fields, defaultTemplate, submitLabel, onSubmit, onCancel }) {
  const [form, setForm] = useState(() => initialForm(rule, defaultTemplate));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const wrong = problem(form);
    setError(wrong);
    if (wrong) return;
    setBusy(true);
    try { await onSubmit(webhookBody(form, rule, defaultTemplate)); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const ordered = [...kinds.filter((k) => k === "doorbell"), ...kinds.filter((k) => k !== "doorbell")];
  const common = ordered.slice(0, SHOWN);
  const more = ordered.slice(SHOWN);
  return html`<form class="webhook-form" onSubmit=${submit}>
    <div class="webhook-form-main"><div class="form-grid">
      <${Field} label="Name"><input name="webhook-name" required maxlength="64" autocomplete="off" value=${form.name} onInput=${set("name")} /></${Field}>
      <${Field} label="URL" hint="Where Doorstep POSTs the event: http:// or https://, any host you choose. Put a token in the path or query, never a password before the host."
        class="wide-field"><input name="webhook-url" type="url" required maxlength="2048" inputmode="url" autocapitalize="none"
        spellcheck="false" placeholder="https://ntfy.example.org/" value=${form.url} onInput=${set("url")} /></${Field}>
    </div>
    <fieldset class="options webhook-kinds"><legend>Events it sends</legend>
      <div class="choice-grid">${common.map((k) => html`<${KindChoice} key=${k} kind=${k} meta=${meta} form=${form} setForm=${setForm} />`)}</div>
      ${more.length ? html`<details class="raw" open=${form.kinds.some((k) => more.includes(k))}><summary>More kinds</summary>
        <div class="choice-grid">${more.map((k) => html`<${KindChoice} key=${k} kind=${k} meta=${meta} form=${form} setForm=${setForm} />`)}</div>
      </details>` : null}
      <label class="check"><input type="checkbox" name="webhook-ends" checked=${form.include_ends} onChange=${set("include_ends")} />
        <span>Also when an event ends (motion stops), not only when it starts</span></label>
    </fieldset>
    <fieldset class="options"><legend>Cameras</legend>
      <p class="hint">None ticked: every camera, including ones added later.</p>
      <div class="choice-grid">${cameras.map((c) => html`<label class="check" key=${c.id}><input type="checkbox" name="webhook-camera" value=${c.id}
        checked=${form.cameras.includes(c.id)} onChange=${() => setForm({ ...form, cameras: toggled(form.cameras, c.id) })} /><span>${c.name}</span></label>`)}</div>
    </fieldset>
    ${rule ? null : html`<label class="check"><input type="checkbox" name="webhook-enabled" checked=${form.enabled} onChange=${set("enabled")} />
      <span>Start sending right away</span></label>`}
    </div>
    <fieldset class="options webhook-form-body"><legend>What it sends</legend>
      <label class="check"><input type="checkbox" name="webhook-custom" checked=${form.custom} onChange=${set("custom")} />
        <span>Write the JSON body myself (otherwise every field is sent under its own name)</span></label>
      ${form.custom ? html`<${Field} label="Body template (JSON)" hint="At most 8 KiB; checked when you save.">
        <textarea name="webhook-template" class="template" rows="9" spellcheck="false" value=${form.template} onInput=${set("template")}></textarea></${Field}>` : null}
      <${TemplateFields} fields=${fields} />
    </fieldset>
    <div class="webhook-form-end"><${ErrorText} error=${error} /></div>
    <div class="actions webhook-form-end">
      <button type="submit" disabled=${busy}>${busy ? "Saving…" : submitLabel}</button>
      ${onCancel ? html`<button type="button" class="secondary" onClick=${onCancel}>Cancel</button>` : null}
    </div>
  </form>`;
}
