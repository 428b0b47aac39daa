// The fields of a police footage request, as an agency sends it from its account or as the
// owner types in one that came by e-mail or letter: the box checks it either way.
import { html, useState } from "../lib/html.js";
import { ErrorText, Field } from "./ui.js";

const BASES = [["voluntary", "Voluntary request"], ["subpoena", "Subpoena"], ["court_order", "Court order"],
  ["warrant", "Warrant"], ["preservation", "Preservation request"], ["emergency_claim", "Emergency claim"]];
const BLANK = { case_number: "", incident_type: "", description: "", officer: "", badge: "", contact: "",
  legal_basis: "voluntary", document: "", latitude: "", longitude: "", radius: "300", start: "", end: "", retention: "" };

function iso(local) {
  return local ? new Date(local).toISOString() : null;
}

/** The request as the API takes it (a circle around a centre; the window in this browser's time). */
function requestOf(draft) {
  return {
    case_number: draft.case_number, incident_type: draft.incident_type, description: draft.description,
    officer: { name: draft.officer, badge: draft.badge, contact: draft.contact }, legal_basis: draft.legal_basis,
    legal_document: draft.document ? { reference: draft.document } : null,
    area: { type: "Feature", geometry: { type: "Point", coordinates: [Number(draft.longitude), Number(draft.latitude)] },
      properties: { radius_m: Number(draft.radius) } },
    window: { start: iso(draft.start), end: iso(draft.end) }, content: ["clips"], retention: draft.retention,
  };
}

/** A request form; `send(request)` posts it and resolves to the stored request, `sentText(r)`
 * says what happened, `children` come first (the owner's agency and channel). */
export function RequestForm({ id, send, sentText, submitLabel, children }) {
  const [draft, setDraft] = useState(BLANK);
  const [problem, setProblem] = useState(null);
  const [sent, setSent] = useState(null);
  const set = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setProblem(null); setSent(null);
    try { setSent(await send(requestOf(draft))); setDraft(BLANK); } catch (err) { setProblem(err); }
  };
  return html`<form class="form-grid" id=${id} onSubmit=${submit}>
    ${children}
    <${Field} label="Case number"><input name="case_number" required maxlength="64" value=${draft.case_number} onInput=${set("case_number")} /></${Field}>
    <${Field} label="Incident type"><input name="incident_type" required maxlength="80" value=${draft.incident_type} onInput=${set("incident_type")} /></${Field}>
    <${Field} label="Description" hint="At most 2,000 characters."><textarea name="description" maxlength="2000" value=${draft.description} onInput=${set("description")}></textarea></${Field}>
    <${Field} label="Officer"><input name="officer" required maxlength="120" value=${draft.officer} onInput=${set("officer")} /></${Field}>
    <${Field} label="Badge"><input name="badge" maxlength="40" value=${draft.badge} onInput=${set("badge")} /></${Field}>
    <${Field} label="Contact (e-mail or phone)"><input name="contact" required maxlength="200" value=${draft.contact} onInput=${set("contact")} /></${Field}>
    <${Field} label="Legal basis"><select name="legal_basis" value=${draft.legal_basis} onChange=${set("legal_basis")}>
      ${BASES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select></${Field}>
    <${Field} label="Document reference" hint="Needed for a subpoena, court order or warrant."><input name="document" maxlength="200" value=${draft.document} onInput=${set("document")} /></${Field}>
    <${Field} label="Centre latitude"><input name="latitude" required inputmode="decimal" value=${draft.latitude} onInput=${set("latitude")} /></${Field}>
    <${Field} label="Centre longitude"><input name="longitude" required inputmode="decimal" value=${draft.longitude} onInput=${set("longitude")} /></${Field}>
    <${Field} label="Radius (m)" hint="0.025–0.5 sq mi: about 144 to 642 m."><input name="radius" type="number" min="144" max="642" required value=${draft.radius} onInput=${set("radius")} /></${Field}>
    <${Field} label="From" hint="15 minutes to 12 hours, entirely in the past."><input name="start" type="datetime-local" step="1" required value=${draft.start} onInput=${set("start")} /></${Field}>
    <${Field} label="To"><input name="end" type="datetime-local" step="1" required value=${draft.end} onInput=${set("end")} /></${Field}>
    <${Field} label="How long the footage is kept"><input name="retention" maxlength="200" value=${draft.retention} onInput=${set("retention")} /></${Field}>
    <div class="actions"><button type="submit">${submitLabel}</button></div>
    ${sent ? html`<p class="done" role="status">${sentText(sent)}</p>` : null}
    <${ErrorText} error=${problem} />
  </form>`;
}
