// The owner's ways to add a camera: one found on the network (adopt it with its password), or
// one typed in by address. The gateway checks the credentials against the camera first.
import { api } from "../lib/api.js";
import { html, useState } from "../lib/html.js";
import { useLoad } from "../lib/load.js";
import { Icon } from "../components/icons.js";
import { Done, ErrorText, Field, Loading } from "../components/ui.js";

function AdoptForm({ device, onAdded }) {
  const [form, setForm] = useState({ name: device.name || device.host, username: "admin", password: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api("POST", "/api/cameras", { host: device.host, port: device.port, driver: device.driver, name: form.name,
        username: form.username || null, password: form.password || null });
      onAdded(form.name);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="adopt" onSubmit=${submit}>
    <${Field} label="Name"><input name="name" required value=${form.name} onInput=${set("name")} /></${Field}>
    <${Field} label="User name"><input name="username" autocomplete="off" autocapitalize="none" value=${form.username} onInput=${set("username")} /></${Field}>
    <${Field} label="Password"><input name="password" type="password" autocomplete="off" value=${form.password} onInput=${set("password")} /></${Field}>
    <button type="submit" disabled=${busy}>${busy ? "Checking…" : "Adopt"}</button>
    <${ErrorText} error=${error} />
  </form>`;
}

/** Devices that answered discovery and are not adopted yet. */
export function Discovered({ onAdded }) {
  const { data, error, loading, reload } = useLoad((signal) => api("GET", "/api/discovery", undefined, { signal }), []);
  const fresh = data ? data.devices.filter((d) => !d.adopted) : [];
  return html`<section class="card discovered">
    <div class="card-head">
      <h2><${Icon} name="search" /> Found on your network</h2>
      <button type="button" class="secondary small" onClick=${reload} disabled=${loading}>Look again</button>
    </div>
    ${loading ? html`<${Loading} text="Looking for cameras…" />` : null}
    <${ErrorText} error=${error} />
    ${!loading && data && !fresh.length ? html`<p class="muted">Nothing new found. Discovery only asks where the
      gateway's settings allow; you can add one with “Add a camera by address”.</p>` : null}
    ${fresh.map((d) => html`<div class="device" data-host=${`${d.host}:${d.port}`} key=${`${d.host}:${d.port}`}>
      <div class="device-head">
        <strong class="name">${d.name || "Unnamed camera"}</strong>
        <span class="muted small">${d.hardware ? `${d.hardware} · ` : ""}${d.host}:${d.port} · found by ${d.found_by}</span>
      </div>
      <${AdoptForm} device=${d} onAdded=${(name) => { onAdded(name); reload(); }} />
    </div>`)}
  </section>`;
}

/** "Add a camera by address". */
export function AddByAddress({ onAdded, drivers }) {
  const blank = { host: "", port: "", driver: "onvif", username: "admin", password: "", name: "", basic: false };
  const [form, setForm] = useState(blank);
  const [error, setError] = useState(null);
  const [added, setAdded] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setAdded(null);
    setBusy(true);
    try {
      const camera = await api("POST", "/api/cameras", { host: form.host.trim(), port: form.port ? Number(form.port) : null,
        driver: form.driver, name: form.name || form.host.trim(), username: form.username || null,
        password: form.password || null, rtsp_allow_basic: form.basic });
      setAdded(camera.name);
      setForm(blank);
      onAdded(camera.name);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<details class="card add-camera" id="add-camera">
    <summary><${Icon} name="plus" /> Add a camera by address</summary>
    <form onSubmit=${submit} class="add-form">
      <${Field} label="Address" hint="The camera's IP address or host name, e.g. 192.168.1.40">
        <input name="host" required autocapitalize="none" spellcheck=${false} value=${form.host} onInput=${set("host")} /></${Field}>
      <${Field} label="Port" hint="Leave empty for the usual one"><input name="port" inputmode="numeric" pattern="[0-9]*"
        value=${form.port} onInput=${set("port")} /></${Field}>
      <${Field} label="Kind of camera"><select name="driver" value=${form.driver} onChange=${set("driver")}>
        ${(drivers.length ? drivers : ["onvif"]).map((d) => html`<option value=${d}>${d === "onvif" ? "ONVIF camera or doorbell" : d === "rtsp" ? "RTSP stream only" : d}</option>`)}
      </select></${Field}>
      <${Field} label="Name" hint="What the household calls it, e.g. Front door"><input name="name" value=${form.name} onInput=${set("name")} /></${Field}>
      <${Field} label="User name"><input name="username" autocomplete="off" autocapitalize="none" value=${form.username} onInput=${set("username")} /></${Field}>
      <${Field} label="Password"><input name="password" type="password" autocomplete="off" value=${form.password} onInput=${set("password")} /></${Field}>
      <label class="check wide-field"><input type="checkbox" name="basic" checked=${form.basic} onChange=${set("basic")} />
        <span>Allow the camera's password to be sent unencrypted if its stream asks for it (RTSP Basic). Only on a network you trust.</span></label>
      <div class="wide-field">
        <${ErrorText} error=${error} />
        ${added ? html`<${Done}>Added ${added}.</${Done}>` : null}
        <button type="submit" disabled=${busy}>${busy ? "Checking the camera…" : "Add camera"}</button>
      </div>
    </form>
  </details>`;
}

/** Both, for the cameras page. */
export function AddCameras({ onAdded }) {
  const { data: health } = useLoad((signal) => api("GET", "/api/health", undefined, { signal }), []);
  return html`<div class="add-cameras">
    <${Discovered} onAdded=${onAdded} />
    <${AddByAddress} onAdded=${onAdded} drivers=${health ? health.drivers.loaded : []} />
  </div>`;
}

