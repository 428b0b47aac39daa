// An agency account's one page: send a footage request (checked by the box), see each request
// as "received" until the owner delivers a package, and download it. Never cameras or live video.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly } from "../lib/format.js";
import { useLoad } from "../lib/load.js";
import { Empty, ErrorText, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";

const BASES = [["voluntary", "Voluntary request"], ["subpoena", "Subpoena"], ["court_order", "Court order"],
  ["warrant", "Warrant"], ["preservation", "Preservation request"], ["emergency_claim", "Emergency claim"]];

function iso(local) {
  return local ? new Date(local).toISOString() : null;
}

function RequestForm({ onSent }) {
  const blank = { case_number: "", incident_type: "", description: "", officer: "", badge: "", contact: "",
    legal_basis: "voluntary", document: "", latitude: "", longitude: "", radius: "300", start: "", end: "", retention: "" };
  const [draft, setDraft] = useState(blank);
  const [problem, setProblem] = useState(null);
  const [sent, setSent] = useState(null);
  const set = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setProblem(null); setSent(null);
    const body = {
      case_number: draft.case_number, incident_type: draft.incident_type, description: draft.description,
      officer: { name: draft.officer, badge: draft.badge, contact: draft.contact }, legal_basis: draft.legal_basis,
      legal_document: draft.document ? { reference: draft.document } : null,
      area: { type: "Feature", geometry: { type: "Point", coordinates: [Number(draft.longitude), Number(draft.latitude)] },
        properties: { radius_m: Number(draft.radius) } },
      window: { start: iso(draft.start), end: iso(draft.end) }, content: ["clips"], retention: draft.retention,
    };
    try { setSent(await api("POST", "/api/agency/requests", body)); setDraft(blank); onSent(); } catch (err) { setProblem(err); }
  };
  return html`<form class="form-grid" id="send-request" onSubmit=${submit}>
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
    <${Field} label="How long you keep footage"><input name="retention" maxlength="200" value=${draft.retention} onInput=${set("retention")} /></${Field}>
    <div class="actions"><button type="submit">Send the request</button></div>
    ${sent ? html`<p class="done" role="status">Sent: request ${sent.id}, received.</p>` : null}
    <${ErrorText} error=${problem} />
  </form>`;
}

/** The agency's page. */
export function AgencyView() {
  const { data, error, reload } = useLoad((signal) => api("GET", "/api/agency/requests", undefined, { signal }));
  return html`<div class="page agency">
    <${PageHead} title="Footage requests" subtitle="The household's owner decides clip by clip. A request stays “received” until footage is delivered." />
    <details class="card" open=${data && !data.requests.length}><summary>New request</summary><${RequestForm} onSent=${reload} /></details>
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />`
      : !data.requests.length ? html`<${Empty} icon="send" title="No requests yet">Requests you send are listed here.</${Empty}>`
      : html`<ul class="request-list">${data.requests.map((r) => html`<li key=${r.id} class="card" data-request=${r.id} data-status=${r.status}>
          <p><strong>Case ${r.case_number}</strong> · sent ${exactly(r.received_at)} · ${r.status === "delivered" ? "delivered" : r.status === "refused" ? `refused: ${r.refused_reason}` : "received"}</p>
          ${r.package ? html`<p><a class="button" href=${r.package.url} download>Download the evidence package</a>
            <span class="small muted"> ${(r.package.size_bytes / 1e6).toFixed(1)} MB · ${r.package.downloads_left} download${r.package.downloads_left === 1 ? "" : "s"} left · until ${exactly(r.package.expires_at)}</span></p>
            <p class="small muted">SHA-256 <code class="hash">${r.package.sha256}</code>. Check it with <code>doorstep evidence verify</code> (see README.txt inside).</p>` : null}
        </li>`)}</ul>`}
  </div>`;
}
