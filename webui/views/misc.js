// Small pages: not found, and "only the owner can open this page".
import { html } from "../lib/html.js";
import { Empty, PageHead } from "../components/ui.js";

/** A page that does not exist. */
export function NotFoundView() {
  return html`<div class="page"><${PageHead} title="Not found" />
    <${Empty} icon="search" title="There is no such page."><a href="#/cameras">Go to the cameras</a></${Empty}></div>`;
}

/** An owner's page opened by someone else: said kindly, not as an error. */
export function OwnerOnlyView({ title }) {
  return html`<div class="page"><${PageHead} title=${title} />
    <${Empty} icon="lock" title="Only the owner can open this page.">
      Ask the owner of this Doorstep if you need something changed here. <a href="#/settings">Your settings</a></${Empty}></div>`;
}

/** The gateway did not answer when the page started. */
export function UnreachableView() {
  return html`<div class="page"><${PageHead} title="Can't reach Doorstep" />
    <${Empty} icon="offline" title="The gateway did not answer.">
      Check that it is running and that this device is on the same network, then
      <a href="/" onClick=${(e) => { e.preventDefault(); location.reload(); }}>try again</a>.</${Empty}></div>`;
}
