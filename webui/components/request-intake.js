// Adding a police request that did not come from an agency account: typed in from an e-mail
// or a letter, or a request file signed with the agency's pinned key. Either way the box
// checks it as it checks the others, and a refused one is listed too.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { RequestForm } from "./request-form.js";
import { ErrorText, Field } from "./ui.js";

function AgencyChoice({ agencies, value, onChange, name }) {
  return html`<${Field} label="From agency" hint=${agencies.length ? "" : "Add the agency first (Agencies, below)."}>
    <select name=${name} required value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      <option value="">Choose…</option>
      ${agencies.map((a) => html`<option value=${a.id}>${a.name} (${a.verification_text})</option>`)}</select></${Field}>`;
}

function TypedIn({ agencies, onAdded }) {
  const [agency, setAgency] = useState("");
  const [channel, setChannel] = useState("email");
  const send = async (request) => {
    try { return await api("POST", "/api/requests", { channel, agency_id: Number(agency), request }); } finally { onAdded(); }
  };
  return html`<${RequestForm} id="type-in-request" submitLabel="Add the request" send=${send}
      sentText=${(r) => `Added: case ${r.case_number}, waiting for you.`}>
    <${AgencyChoice} agencies=${agencies} value=${agency} onChange=${setAgency} name="typed-agency" />
    <${Field} label="It came by"><select name="channel" value=${channel} onChange=${(e) => setChannel(e.currentTarget.value)}>
      <option value="email">E-mail</option><option value="paper">Letter or paper</option></select></${Field}>
  </${RequestForm}>`;
}

function SignedFile({ agencies, onAdded }) {
  const keyed = agencies.filter((a) => a.key_fingerprint);
  const [agency, setAgency] = useState("");
  const [problem, setProblem] = useState(null);
  const [added, setAdded] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setProblem(null); setAdded(null);
    const input = e.currentTarget.elements["request-file"];
    const [file] = input.files;
    try {
      if (file.size > 65536) throw new Error("A request file is at most 64 KiB.");
      setAdded(await api("POST", "/api/requests/signed", { agency_id: Number(agency), file: await file.text() }));
      input.value = "";  // the next file; the agency stays chosen
    } catch (err) { setProblem(err); } finally { onAdded(); }
  };
  return html`<form class="form-grid" id="signed-request" onSubmit=${submit}>
    <${AgencyChoice} agencies=${keyed} value=${agency} onChange=${setAgency} name="signed-agency" />
    ${!keyed.length ? html`<p class="muted small">No agency has a pinned key yet: add its public key with the agency.</p>` : null}
    <${Field} label="Signed request file" hint="JSON signed with the agency's Ed25519 key; the signature is checked against the key you pinned."><input name="request-file" type="file" accept=".json,application/json" required /></${Field}>
    <div class="actions"><button type="submit" disabled=${!keyed.length}>Check and add</button></div>
    ${added ? html`<p class="done" role="status">Signature checked. Added: case ${added.case_number}, waiting for you.</p>` : null}
    <${ErrorText} error=${problem} />
  </form>`;
}

/** The "Add a request" section of the Requests page (`agencies`: the agencies added). */
export function RequestIntake({ agencies, onAdded }) {
  const [way, setWay] = useState("typed");
  return html`<details class="card intake">
    <summary>Add a request that came by e-mail, letter or file</summary>
    <div class="actions" role="radiogroup" aria-label="How it came">
      <label><input type="radio" name="intake" checked=${way === "typed"} onChange=${() => setWay("typed")} /> Type it in</label>
      <label><input type="radio" name="intake" checked=${way === "signed"} onChange=${() => setWay("signed")} /> Upload a signed file</label>
    </div>
    ${way === "typed" ? html`<${TypedIn} agencies=${agencies} onAdded=${onAdded} />` : html`<${SignedFile} agencies=${agencies} onAdded=${onAdded} />`}
  </details>`;
}
