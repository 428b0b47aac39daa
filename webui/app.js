// Doorstep web UI. Data from the API is only ever inserted with textContent, never as HTML:
// camera names and topics come from devices and must not be able to run script.
"use strict";

const REFRESH_MS = 5000;

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

function addRow(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

function describeCameras(cameras) {
  if (cameras.total === 0) return "No cameras yet.";
  const parts = Object.entries(cameras.by_state).map(([state, n]) => `${n} ${state.replace("_", " ")}`);
  return `${cameras.total} camera(s): ${parts.join(", ")}`;
}

function render(health) {
  const status = document.getElementById("status");
  status.textContent = health.status;
  status.dataset.state = health.status;
  setText("version", `version ${health.version}`);
  const list = document.getElementById("components");
  list.replaceChildren();
  addRow(list, "Storage", `${health.storage.state} (schema ${health.storage.schema_version ?? "?"})`);
  addRow(list, "Event bus", `${health.bus.published} published, ${health.bus.dropped} dropped`);
  const failed = Object.keys(health.drivers.failed);
  addRow(list, "Drivers", health.drivers.loaded.join(", ") + (failed.length ? ` (failed: ${failed.join(", ")})` : ""));
  setText("cameras-summary", describeCameras(health.cameras));
}

async function refresh() {
  try {
    const response = await fetch("/api/health", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (err) {
    const status = document.getElementById("status");
    status.textContent = "unreachable";
    status.dataset.state = "unreachable";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
