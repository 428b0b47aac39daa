// Cameras: the grid (state + latest snapshot), discovery with adoption, and a camera's page.
import { api } from "../api.js";
import { errorBox, field, h, setError, show, when } from "../dom.js";

const SNAPSHOT_REFRESH_MS = 10000;

function snapshot(camera) {
  if (camera.state !== "online" || !camera.capabilities.includes("snapshot")) {
    return h("div", { class: "thumb empty" }, camera.state === "online" ? "no snapshot" : camera.state.replace("_", " "));
  }
  const img = h("img", { class: "thumb", alt: `Latest view of ${camera.name}`, src: `/api/cameras/${encodeURIComponent(camera.id)}/snapshot?t=${Date.now()}` });
  img.addEventListener("error", () => img.replaceWith(h("div", { class: "thumb empty" }, "snapshot failed")));
  return img;
}

function cameraCard(camera) {
  return h("a", { class: "camera card", href: `#/camera/${encodeURIComponent(camera.id)}`, dataset: { camera: camera.id } },
    snapshot(camera),
    h("strong", { class: "name" }, camera.name),
    h("span", { class: `state ${camera.state}` }, camera.state.replace("_", " ")),
    camera.reason ? h("span", { class: "muted small" }, camera.reason) : null);
}

function adoptForm(device, onAdopted) {
  const name = h("input", { name: "name", required: true, value: device.name || device.host });
  const username = h("input", { name: "username", autocomplete: "off", value: "admin" });
  const password = h("input", { name: "password", type: "password", autocomplete: "off" });
  const error = errorBox();
  return h("form", { class: "adopt", onsubmit: async (e) => {
    e.preventDefault();
    setError(error, "");
    try {
      await api("POST", "/api/cameras", { host: device.host, port: device.port, name: name.value, username: username.value || null, password: password.value || null });
      onAdopted();
    } catch (err) { setError(error, err.message); }
  } }, field("Name", name), field("User name", username), field("Password", password), error,
    h("button", { type: "submit" }, "Adopt"));
}

async function discoverySection(onAdopted) {
  const list = h("div", { class: "discovered" }, h("p", { class: "muted" }, "Looking for cameras…"));
  const section = h("section", { class: "card" }, h("h2", {}, "Found on the network"), list);
  api("GET", "/api/discovery").then((found) => {
    const fresh = found.devices.filter((d) => !d.adopted);
    if (!fresh.length) { list.replaceChildren(h("p", { class: "muted" }, "Nothing new found (discovery sends probes only where the config allows).")); return; }
    list.replaceChildren(...fresh.map((d) => h("div", { class: "device", dataset: { host: `${d.host}:${d.port}` } },
      h("strong", { class: "name" }, d.name || "(unnamed)"),
      h("span", { class: "muted small" }, ` ${d.hardware || ""} at ${d.host}:${d.port} (${d.found_by})`),
      adoptForm(d, onAdopted))));
  }).catch((err) => list.replaceChildren(h("p", { class: "error" }, err.message)));
  return section;
}

function applyState(grid, cameras, update) {
  const card = grid.querySelector(`.camera[data-camera="${CSS.escape(update.camera_id)}"]`);
  const camera = cameras.find((c) => c.id === update.camera_id);
  if (!card || !camera) return;
  camera.state = update.state;
  camera.reason = update.reason;
  card.replaceWith(cameraCard(camera));
}

export async function camerasView(me, refresh, live) {
  const { cameras } = await api("GET", "/api/cameras");
  const grid = cameras.length
    ? h("div", { class: "grid" }, cameras.map(cameraCard))
    : h("p", { class: "muted", id: "no-cameras" }, me.role === "owner" ? "No cameras yet: adopt one below." : "No cameras are shared with you.");
  const parts = [h("h1", {}, "Cameras"), grid];
  if (me.role === "owner") parts.push(await discoverySection(refresh));
  show(...parts);
  // Connection states arrive live (e.g. a camera just adopted going online).
  live.onState = async (update) => {
    if (!document.body.contains(grid)) { live.onState = null; return; }
    if (update.state === "online") {
      const fresh = await api("GET", "/api/cameras");
      const camera = fresh.cameras.find((c) => c.id === update.camera_id);
      if (camera) Object.assign(cameras.find((c) => c.id === camera.id) || {}, camera);
    }
    applyState(grid, cameras, update);
  };
  const timer = setInterval(() => {
    if (!document.body.contains(grid)) { clearInterval(timer); return; }
    for (const img of grid.querySelectorAll("img.thumb")) img.src = img.src.replace(/t=\d+/, `t=${Date.now()}`);
  }, SNAPSHOT_REFRESH_MS);
}

export async function cameraView(id, me) {
  const { cameras } = await api("GET", "/api/cameras");
  const camera = cameras.find((c) => c.id === id);
  if (!camera) { show(h("h1", {}, "Not found"), h("p", {}, "No such camera, or it is not shared with you.")); return; }
  const { events } = await api("GET", `/api/events?camera=${encodeURIComponent(id)}&limit=20`);
  const canWatch = camera.state === "online" && camera.streams.length > 0;
  show(h("h1", {}, camera.name), snapshot(camera),
    h("p", { class: "actions" },
      h("a", { class: "button", id: "live", href: `#/live/${encodeURIComponent(id)}`, "aria-disabled": canWatch ? null : "true" }, "Live"),
      camera.talk === false ? h("span", { class: "muted small" }, " No speaker: view only.") : null),
    h("section", { class: "card" }, h("h2", {}, "State"),
      h("dl", {},
        h("dt", {}, "Connection"), h("dd", { class: `state ${camera.state}` }, camera.state.replace("_", " ")),
        camera.reason ? [h("dt", {}, "Reason"), h("dd", {}, camera.reason)] : null,
        h("dt", {}, "Device"), h("dd", {}, [camera.manufacturer, camera.model, camera.firmware].filter(Boolean).join(" · ") || "unknown"),
        h("dt", {}, "Address"), h("dd", {}, `${camera.host}${camera.port ? ":" + camera.port : ""} (${camera.driver})`),
        h("dt", {}, "Capabilities"), h("dd", {}, camera.capabilities.join(", ") || "none"),
        h("dt", {}, "Talk"), h("dd", {}, camera.talk === true ? "yes (speaker)" : camera.talk === false ? "no speaker" : "unknown until tried"),
        h("dt", {}, "Streams"), h("dd", {}, camera.streams.length ? camera.streams.map((s) =>
          `${s.name}: ${s.codec || "?"} ${s.width && s.height ? `${s.width}×${s.height}` : ""}${s.fps ? ` @ ${s.fps} fps` : ""}`).join("; ") : "none"),
        camera.stream_error ? [h("dt", {}, "Stream problem"), h("dd", { class: "error", id: "stream-error" }, camera.stream_error)] : null,
        camera.clock_offset_s != null ? [h("dt", {}, "Camera clock"), h("dd", {}, `${camera.clock_offset_s >= 0 ? "+" : ""}${camera.clock_offset_s.toFixed(1)} s from ours`)] : null,
        // The driver's notes are camera-side text: text nodes only (h() never parses HTML).
        camera.notes && camera.notes.length ? [h("dt", {}, "Notes"), h("dd", { id: "camera-notes" },
          h("ul", { class: "notes" }, camera.notes.map((note) => h("li", {}, note))))] : null)),
    h("section", { class: "card" }, h("h2", {}, "Recent events"),
      events.length ? h("ul", { class: "events" }, events.map((e) => h("li", {},
        h("span", { class: `kind ${e.kind}` }, e.kind), ` ${e.active === null ? "" : e.active ? "started" : "ended"}`,
        e.initial ? h("span", { class: "muted" }, " (state at subscription)") : null,
        h("span", { class: "muted small" }, ` ${when(e.received_at)}`)))) : h("p", { class: "muted" }, "None yet.")),
    me.role === "owner" ? h("button", { type: "button", class: "danger", onclick: async () => {
      if (!confirm(`Remove ${camera.name}? Its recordings are kept.`)) return;
      try { await api("DELETE", `/api/cameras/${encodeURIComponent(id)}`); location.hash = "#/cameras"; }
      catch (err) { alert(err.message); }
    } }, "Remove camera") : null);
}
