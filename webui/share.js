// The page a share's link opens (no account): reads its token from its own address, opens the
// share (one view), and plays its clips. Nothing is stored, and no Referer is ever sent.
import { html, render, useEffect, useState } from "./lib/html.js";
import { SharedClips } from "./components/shared-clips.js";

const token = decodeURIComponent(location.pathname.split("/")[2] || "");
const ENDED = "ended";

function Page() {
  const [share, setShare] = useState(null);
  const [state, setState] = useState("loading");
  useEffect(() => {
    let timer = null;
    const load = async () => {
      const response = await fetch(`/api/s/${encodeURIComponent(token)}`,
        { credentials: "omit", referrerPolicy: "no-referrer", headers: { Accept: "application/json" } });
      if (!response.ok) { setState(response.status === 429 ? "busy" : ENDED); return; }
      const data = await response.json();
      if (data.status === "preparing") { setState("preparing"); timer = setTimeout(load, 3000); return; }
      setShare(data);
      setState("ready");
    };
    load().catch(() => setState("offline"));
    return () => clearTimeout(timer);
  }, []);
  const words = {
    loading: "Loading the shared clip…",
    preparing: "The clip is being prepared. This page will show it when it is ready.",
    busy: "Too many requests just now. Try again in a minute.",
    offline: "The gateway could not be reached. Try again later.",
    [ENDED]: "This share has ended, or the link is not complete.",
  };
  return html`<main class="share-page">
    ${state === "ready" && share
      ? html`<${SharedClips} share=${share} onEnded=${() => setState(ENDED)} />`
      : html`<p class=${state === ENDED ? "share-ended" : "boot"} role="status">${words[state]}</p>`}
    <footer><p>Shared from a Doorstep camera gateway. The sender can end this share at any time.</p></footer>
  </main>`;
}

document.title = "Shared clip";
const root = document.getElementById("app");
root.replaceChildren();  // the "Loading…" line the HTML shows before this script runs
render(html`<${Page} />`, root);
