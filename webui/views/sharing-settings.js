// Settings → Sharing (owner): the home's location, set once. Shares never carry it: only the
// coarse area it lies in (the same for every share), with a label you choose.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { useLoad } from "../lib/load.js";
import { SettingsNav } from "../components/settings-nav.js";
import { Done, ErrorText, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";

function LocationForm({ current, onSaved }) {
  const [lat, setLat] = useState(current.set ? String(current.latitude) : "");
  const [lon, setLon] = useState(current.set ? String(current.longitude) : "");
  const [label, setLabel] = useState(current.label || "");
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      onSaved(await api("PUT", "/api/sharing/location", { latitude: Number(lat), longitude: Number(lon), label: label.trim() }));
      setDone(true);
    } catch (err) { setError(err); }
  };
  return html`<form class="card" onSubmit=${submit}>
    <h2>Where the home is</h2>
    <p class="muted">Only you see this. A share shows the area around it (about 0.7 km², the same area for every share) and the label below, never the point itself.</p>
    <${Field} label="Latitude" hint="e.g. 52.3740 (from a map app: long-press the home)"><input name="latitude" inputmode="decimal" required value=${lat} onInput=${(e) => setLat(e.currentTarget.value)} /></${Field}>
    <${Field} label="Longitude"><input name="longitude" inputmode="decimal" required value=${lon} onInput=${(e) => setLon(e.currentTarget.value)} /></${Field}>
    <${Field} label="Name of the area" hint="Shown on shares, e.g. your neighbourhood"><input name="place-label" maxlength="80" value=${label} onInput=${(e) => setLabel(e.currentTarget.value)} /></${Field}>
    <${ErrorText} error=${error} />
    ${done ? html`<${Done}>Saved. Shares made from now show this area.</${Done}>` : null}
    <button type="submit">Save</button>
    ${current.set ? html`<p class="muted small">Area of your shares: <code>${current.cell}</code></p>` : null}
  </form>`;
}

/** The Sharing settings page. */
export function SharingSettingsView() {
  const { data, error, reload } = useLoad((signal) => api("GET", "/api/sharing/location", undefined, { signal }));
  const [saved, setSaved] = useState(null);
  const current = saved || data;
  return html`<section>
    <${PageHead} title="Settings" />
    <${SettingsNav} page="sharing" />
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !current ? html`<${Loading} />`
      : html`<${LocationForm} current=${current} onSaved=${setSaved} />`}
  </section>`;
}
