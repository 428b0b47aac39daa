// Small building blocks shared by the views: fields, messages, page headings, state badges.
import { cloneElement, html, useId } from "../lib/html.js";
import { Icon } from "./icons.js";

/** A labelled form field; `children` is the input (it gets the label's id). */
export function Field({ label, hint, children, class: className = "" }) {
  const id = useId();
  const input = cloneElement(children, { id, "aria-describedby": hint ? `${id}-hint` : undefined });
  return html`<div class=${`field ${className}`}>
    <label for=${id}>${label}</label>
    ${input}
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
  </div>`;
}

/** An error message (nothing when there is none), with the server's hint and, folded away,
 * its raw detail; announced when it appears. */
export function ErrorText({ error }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.message;
  return html`<div class="error" role="alert"><${Icon} name="alert" size=${18} /><div class="error-body">
    <p>${text}${/[.!?]$/.test(text) ? "" : "."}${error.hint ? ` ${error.hint}` : ""}</p>
    ${error.detail ? html`<details class="raw"><summary>Details</summary><code>${error.detail}</code></details>` : null}
  </div></div>`;
}

/** A confirmation that something worked. */
export function Done({ children }) {
  return html`<p class="done" role="status"><${Icon} name="check" size=${18} /><span>${children}</span></p>`;
}

/** The page's heading row, with actions on the right. */
export function PageHead({ title, subtitle, children }) {
  return html`<div class="page-head">
    <div class="page-title"><h1>${title}</h1>${subtitle ? html`<p class="muted">${subtitle}</p>` : null}</div>
    ${children ? html`<div class="page-actions">${children}</div>` : null}
  </div>`;
}

/** A friendly empty state. */
export function Empty({ icon = "dot", title, children, id }) {
  return html`<div class="empty-state" id=${id}>
    <span class="empty-icon"><${Icon} name=${icon} size=${28} /></span>
    <p class="empty-title">${title}</p>
    ${children ? html`<div class="muted">${children}</div>` : null}
  </div>`;
}

/** A camera's state as a coloured badge ("state online" classes are what tests look for). */
export function StateBadge({ state, label, tone }) {
  return html`<span class=${`state ${state} tone-${tone}`}><span class="state-dot" aria-hidden="true"></span>${label}</span>`;
}

/** The raw detail behind a friendly sentence, folded away. */
export function RawDetail({ summary = "Details", children }) {
  return html`<details class="raw"><summary>${summary}</summary><div class="raw-body">${children}</div></details>`;
}

/** A loading line while a view fetches. */
export function Loading({ text = "Loading…" }) {
  return html`<p class="loading muted" role="status"><span class="spinner" aria-hidden="true"></span>${text}</p>`;
}

/** A failed load, with a way to try again. */
export function LoadFailed({ error, retry }) {
  return html`<div class="card">
    <${ErrorText} error=${error} />
    ${retry ? html`<button type="button" class="secondary" onClick=${retry}>Try again</button>` : null}
  </div>`;
}
