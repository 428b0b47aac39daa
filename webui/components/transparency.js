// The household's transparency report on the Requests page: a period, the counts by outcome,
// agency and legal basis, printable and downloadable as the signed JSON the gateway made.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { ErrorText, Field } from "./ui.js";

const OUTCOMES = [["received", "Received"], ["granted", "Granted"], ["partial", "Partly granted"],
  ["declined", "Declined"], ["expired", "Expired"], ["refused", "Refused by the box"], ["pending", "Waiting"]];

function Table({ rows, first, label }) {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${label || "All requests"}><table class="report">
    <thead><tr><th scope="col">${label}</th>${OUTCOMES.map(([, l]) => html`<th scope="col">${l}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr key=${r[first]}><th scope="row">${r[first]}</th>${OUTCOMES.map(([k]) => html`<td>${r[k]}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

/** The transparency report section. */
export function TransparencyReport() {
  const [since, setSince] = useState("");
  const [signed, setSigned] = useState(null);
  const [problem, setProblem] = useState(null);
  const show = async (e) => {
    e.preventDefault();
    setProblem(null);
    const query = since ? `?since=${encodeURIComponent(new Date(since).toISOString())}` : "";
    try { setSigned(await api("GET", `/api/transparency${query}`)); } catch (err) { setProblem(err); }
  };
  const download = () => {
    const blob = new Blob([JSON.stringify(signed, null, 1)], { type: "application/json" });
    const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: "doorstep-transparency-report.json" });
    link.click();
    URL.revokeObjectURL(link.href);
  };
  const report = signed?.report;
  return html`<details class="card transparency">
    <summary>Transparency report</summary>
    <form class="inline-form" onSubmit=${show}>
      <${Field} label="Since" hint="Default: the last 12 months."><input name="report-since" type="date" value=${since} onInput=${(e) => setSince(e.currentTarget.value)} /></${Field}>
      <button type="submit">Show the report</button>
    </form>
    <${ErrorText} error=${problem} />
    ${report ? html`<section id="report">
      <h3>${report.household}: ${report.since.slice(0, 10)} to ${report.until.slice(0, 10)}</h3>
      <${Table} rows=${[{ what: "All requests", ...report.requests }]} first="what" label="" />
      ${report.by_agency.length ? html`<${Table} rows=${report.by_agency} first="agency_name" label="Agency" />` : null}
      ${report.by_legal_basis.length ? html`<${Table} rows=${report.by_legal_basis} first="legal_basis" label="Legal basis" />` : null}
      <p>${report.clips_handed_over} clip(s) handed over in ${report.packages_delivered} package(s), downloaded ${report.downloads} time(s).</p>
      <p class="small muted">Signed by <code class="hash">${signed.key_fingerprint}</code>.</p>
      <div class="actions no-print"><button type="button" class="secondary" onClick=${() => window.print()}>Print</button>
        <button type="button" class="secondary" onClick=${download}>Download (signed JSON)</button></div>
    </section>` : null}
  </details>`;
}
