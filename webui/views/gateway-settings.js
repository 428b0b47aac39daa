// Gateway settings (owner only): the parts of config.yaml that are safe to change while Doorstep
// runs, one form per section drawn from the section's schema. A value saved here is kept over
// the file's until that line of the file is edited; Revert goes back to the file's value.
import { api } from "../lib/api.js";
import { html, useEffect, useState } from "../lib/html.js";
import { useLoad, useUnmountSignal } from "../lib/load.js";
import { useConfirm } from "../components/dialogs.js";
import { Icon } from "../components/icons.js";
import { changeOf, defaultsOf, ObjectFields } from "../components/schema-form.js";
import { SettingsNav } from "../components/settings-nav.js";
import { Done, ErrorText, LoadFailed, Loading, PageHead } from "../components/ui.js";

const BASE = "/api/settings";

function fieldTitle(section, field) {
  return section.schema.properties?.[field]?.title || field;
}

function SectionForm({ section, busy, onSave, revertButton, whole }) {
  const defs = section.schema.$defs || {};
  const before = section.value ?? defaultsOf(section.schema, defs);
  const [draft, setDraft] = useState(before);
  const submit = (e) => {
    e.preventDefault();
    onSave(changeOf(section.schema, defs, before, draft));
  };
  const wrap = (field) => (!whole && section.overridden.includes(field) ? revertButton(field) : null);
  return html`<form class="schema-form" onSubmit=${submit}>
    <${ObjectFields} schema=${section.schema} defs=${defs} value=${draft} path=${section.name} onChange=${setDraft} wrap=${wrap} />
    <p class="hint">${section.applies_note}</p>
    <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Saving…" : "Save"}</button></div>
  </form>`;
}

function SectionCard({ section: loaded, reload, ask }) {
  const signal = useUnmountSignal();
  // The gateway's answer to a change is shown at once; the page's next load replaces it.
  const [answer, setAnswer] = useState(null);
  useEffect(() => setAnswer(null), [loaded]);
  const section = answer || loaded;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const act = async (action) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try { await action(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const path = `${BASE}/${encodeURIComponent(section.name)}`;
  const fields = Object.keys(section.schema.properties || {});
  // A section config.yaml leaves out is all "set here": one Revert for it, not one per field.
  const whole = fields.length > 1 && fields.every((f) => section.overridden.includes(f));
  const save = (change) => act(async () => {
    if (!Object.keys(change).length) { setDone("Nothing changed."); return; }
    setAnswer(await api("PUT", path, change, { signal }));
    setDone(section.applies === "now" ? "Saved: in effect now." : "Saved: applies when Doorstep restarts.");
    reload();
  });
  const revert = (field) => act(async () => {
    setAnswer(await api("DELETE", `${path}/${encodeURIComponent(field)}`, undefined, { signal }));
    setDone(`${fieldTitle(section, field)}: back to config.yaml's value.`);
    reload();
  });
  const revertAll = () => act(async () => {
    if (!await ask({ title: `Set ${section.title} back to config.yaml?`, confirm: "Use config.yaml's values",
      text: "Every value changed here for this section is forgotten; config.yaml's values apply." })) return;
    setAnswer(await api("DELETE", path, undefined, { signal }));
    setDone("Back to config.yaml's values.");
    reload();
  });
  const revertButton = (field) => html`<span class="pill set-here">set here</span>
    <button type="button" class="ghost small revert" data-field=${field} disabled=${busy} onClick=${() => revert(field)}
      aria-label=${`Revert ${fieldTitle(section, field)} to config.yaml's value`}>Revert</button>`;
  return html`<section class="card settings-section" id=${`section-${section.name}`} data-section=${section.name}>
    <div class="card-head">
      <h2><${Icon} name="sliders" /> ${section.title}</h2>
      <span class=${`pill ${section.applies === "now" ? "ok" : ""}`}>${section.applies === "now" ? "Applies at once" : "Applies after a restart"}</span>
    </div>
    <p class="muted">${section.description}</p>
    ${section.restart_pending ? html`<p class="warning restart-pending"><${Icon} name="alert" size=${18} />
      <span>Changed since Doorstep started: restart it to apply.</span></p>` : null}
    ${section.value === null ? html`<p class="small muted">Off: nothing is set for this section yet.</p>` : null}
    ${whole ? html`<p class="small"><span class="pill set-here">set here</span> Everything in this section is set here: config.yaml leaves it out.</p>` : null}
    <${SectionForm} key=${JSON.stringify([section.value, section.overridden])} section=${section} busy=${busy} onSave=${save}
      revertButton=${revertButton} whole=${whole} />
    <${ErrorText} error=${error} />
    ${done ? html`<${Done}>${done}</${Done}>` : null}
    ${section.overridden.length > 1 ? html`<button type="button" class="secondary small" disabled=${busy} onClick=${revertAll}>
      Set the whole section back to config.yaml</button>` : null}
  </section>`;
}

function FileOnly({ items }) {
  return html`<section class="card" id="file-only">
    <h2><${Icon} name="lock" /> Set in config.yaml only</h2>
    <p class="muted small">These stay in the config file: changing them while Doorstep runs is not safe, or they have their own page.</p>
    <details class="raw"><summary>${`${items.length} settings`}</summary>
      <dl class="fields-list">${items.map((f) => html`<div class="fields-item" key=${f.path}><dt><code>${f.path}</code> ${f.title}</dt>
        <dd class="muted">${f.reason}</dd></div>`)}</dl>
    </details>
  </section>`;
}

/** The gateway settings page. */
export function GatewaySettingsView() {
  const [dialog, ask] = useConfirm();
  const { data, error, reload } = useLoad((signal) => api("GET", BASE, undefined, { signal }), []);
  const pending = data ? data.sections.filter((s) => data.restart_pending.includes(s.name)).map((s) => s.title) : [];
  return html`<div class="page gateway-settings">
    <${SettingsNav} page="gateway" />
    <${PageHead} title="Gateway settings" subtitle="What config.yaml holds that is safe to change while Doorstep runs. A value saved
      here is kept over the file's until that line of the file is edited; each change asks for your password and is in the audit log." />
    ${error && !data ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />` : html`
      ${pending.length ? html`<p class="warning" id="restart-needed" role="status"><${Icon} name="alert" size=${18} />
        <span>Restart Doorstep to apply the changes to: ${pending.join(", ")}.</span></p>` : null}
      <div class="columns">
        ${data.sections.map((s) => html`<${SectionCard} key=${s.name} section=${s} reload=${reload} ask=${ask} />`)}
        <${FileOnly} items=${data.file_only} />
      </div>`}
    ${dialog}
  </div>`;
}
