// An agency account's one page: send a footage request (checked by the box), see each request
// as "received" until the owner delivers a package, and download it. Never cameras or live video.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { exactly } from "../lib/format.js";
import { useLoad } from "../lib/load.js";
import { RequestForm } from "../components/request-form.js";
import { Empty, LoadFailed, Loading, PageHead } from "../components/ui.js";

/** The agency's page. */
export function AgencyView() {
  const { data, error, reload } = useLoad((signal) => api("GET", "/api/agency/requests", undefined, { signal }));
  // Open while there is no request yet, and as long as the agency keeps it open (the list
  // growing after a send must not fold the form and its "Sent" line away).
  const [keepOpen, setKeepOpen] = useState(false);
  return html`<div class="page agency">
    <${PageHead} title="Footage requests" subtitle="The household's owner decides clip by clip. A request stays “received” until footage is delivered." />
    <details class="card" open=${keepOpen || (data && !data.requests.length)} onToggle=${(e) => setKeepOpen(e.currentTarget.open)}><summary>New request</summary><${RequestForm} id="send-request" submitLabel="Send the request"
      send=${async (request) => { try { return await api("POST", "/api/agency/requests", request); } finally { reload(); } }}
      sentText=${(sent) => `Sent: request ${sent.id}, received.`} /></details>
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
