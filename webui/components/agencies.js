// The agencies the owner added (how each was verified, its key, its account), and the form to
// add one. An agency's account needs a second factor before it can send anything.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { ErrorText, Field } from "./ui.js";

const METHODS = {
  in_person: "In person (you checked a badge or met them)", email_domain: "By e-mail domain",
  signed_key: "By its signing key (signed request files)", unverified: "Not verified",
};

function AddAgency({ onAdded }) {
  const blank = { name: "", verification: "in_person", verification_note: "", contact: "", public_key: "", username: "", password: "" };
  const [draft, setDraft] = useState(blank);
  const [problem, setProblem] = useState(null);
  const set = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setProblem(null);
    const body = { name: draft.name, verification: draft.verification, verification_note: draft.verification_note,
      contact: draft.contact, public_key: draft.public_key || null,
      account: draft.username ? { username: draft.username, password: draft.password } : null };
    try { await api("POST", "/api/agencies", body); setDraft(blank); onAdded(); } catch (err) { setProblem(err); }
  };
  return html`<form class="form-grid" id="add-agency" onSubmit=${submit}>
    <${Field} label="Agency"><input name="agency-name" required maxlength="120" value=${draft.name} onInput=${set("name")} /></${Field}>
    <${Field} label="How you verified it"><select name="verification" value=${draft.verification} onChange=${set("verification")}>
      ${Object.entries(METHODS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select></${Field}>
    <${Field} label="Who checked, how, when" hint="Shown with every request of this agency."><input name="verification-note" maxlength="500" value=${draft.verification_note} onInput=${set("verification_note")} /></${Field}>
    <${Field} label="Contact"><input name="contact" maxlength="200" value=${draft.contact} onInput=${set("contact")} /></${Field}>
    <${Field} label="Its public key" hint="Ed25519, for signed request files (base64 or PEM)."><textarea name="public-key" maxlength="2000" value=${draft.public_key} onInput=${set("public_key")}></textarea></${Field}>
    <${Field} label="Account username" hint="Optional: lets the agency send requests from this box."><input name="agency-username" autocapitalize="none" maxlength="64" value=${draft.username} onInput=${set("username")} /></${Field}>
    ${draft.username ? html`<${Field} label="Its first password" hint="At least 12 characters; it sets up a second factor at first sign-in."><input name="agency-password" type="password" autocomplete="new-password" value=${draft.password} onInput=${set("password")} /></${Field}>` : null}
    <div class="actions"><button type="submit">Add the agency</button></div>
    <${ErrorText} error=${problem} />
  </form>`;
}

/** The agencies section of the Requests page (`agencies`: GET /api/agencies, or null while
 * it loads; `reload` after one was added). */
export function AgenciesPanel({ agencies, reload }) {
  const data = agencies;
  return html`<details class="card agencies">
    <summary>Agencies (${data ? data.agencies.length : "…"})</summary>
    ${data && data.agencies.length ? html`<ul>${data.agencies.map((a) => html`<li key=${a.id} data-agency=${a.id}>
      <strong>${a.name}</strong> · <span class=${`pill ${a.verification === "unverified" ? "bad" : "ok"}`}>${a.verification_text}</span>
      ${a.account ? html` · account <code>${a.account}</code>` : null}${a.key_fingerprint ? html` · key <code class="hash">${a.key_fingerprint}</code>` : null}
      ${a.verification_note ? html`<br /><span class="small muted">${a.verification_note}</span>` : null}</li>`)}</ul>` : null}
    <${AddAgency} onAdded=${reload} />
  </details>`;
}
