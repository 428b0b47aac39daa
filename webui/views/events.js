// The events timeline: stored events, then live ones as they arrive.
import { api } from "../api.js";
import { h, show, when } from "../dom.js";

export const KINDS = ["motion", "doorbell", "person", "vehicle", "animal", "package", "line_crossing",
  "intrusion", "loitering", "tamper", "scene_change", "audio", "digital_input", "relay", "day_night",
  "storage", "ptz", "other"];

function row(e, names) {
  return h("tr", { dataset: { kind: e.kind } },
    h("td", {}, when(e.received_at)),
    h("td", {}, names[e.camera_id] || e.camera_id),
    h("td", {}, h("span", { class: `kind ${e.kind}` }, e.kind)),
    h("td", {}, e.active === null ? "happened" : e.active ? "started" : "ended", e.initial ? " (state)" : ""),
    h("td", { class: "muted small" }, e.source || ""));
}

export async function eventsView(live) {
  const { cameras } = await api("GET", "/api/cameras");
  const names = Object.fromEntries(cameras.map((c) => [c.id, c.name]));
  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All cameras"),
    cameras.map((c) => h("option", { value: c.id }, c.name)));
  const kind = h("select", { name: "kind" }, h("option", { value: "" }, "All kinds"), KINDS.map((k) => h("option", { value: k }, k)));
  const body = h("tbody", {});
  const table = h("table", { class: "timeline" },
    h("thead", {}, h("tr", {}, ["When", "Camera", "Kind", "What", "Source"].map((t) => h("th", {}, t)))), body);
  async function load() {
    const query = new URLSearchParams({ limit: "100" });
    if (camera.value) query.append("camera", camera.value);
    if (kind.value) query.append("kind", kind.value);
    const { events } = await api("GET", `/api/events?${query}`);
    body.replaceChildren(...events.map((e) => row(e, names)));
  }
  camera.addEventListener("change", load);
  kind.addEventListener("change", load);
  await load();
  show(h("h1", {}, "Events"), h("div", { class: "filters" }, camera, kind), table);
  live.onEvent = (e) => {
    if (!document.body.contains(table)) { live.onEvent = null; return; }
    if ((camera.value && e.camera_id !== camera.value) || (kind.value && e.kind !== kind.value)) return;
    body.prepend(row(e, names));
  };
}
