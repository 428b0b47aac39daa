// The server's vocabulary (GET /api/meta) indexed for the views, and the sentences built from it.
// Names and reasons come from cameras: they are only ever placed as text.

/** Index GET /api/meta's answer by kind, role and state. */
export function indexMeta(meta) {
  return {
    kinds: new Map(meta.event_kinds.map((k) => [k.kind, k])),
    kindList: meta.event_kinds,
    roles: new Map(meta.roles.map((r) => [r.role, r])),
    roleList: meta.roles,
    states: new Map(meta.camera_states.map((s) => [s.state, s])),
    capabilities: new Map(meta.capabilities.map((c) => [c.capability, c.label])),
  };
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

/** The camera's state as {label, sentence, tone}; the raw reason stays in camera.reason. */
export function stateWords(meta, camera) {
  const known = meta?.states.get(camera.state);
  const host = camera.host || "its address";
  if (!known) return { label: camera.state, sentence: camera.reason || camera.state, tone: "off" };
  return { label: known.label, sentence: fill(known.sentence, { host }), tone: known.tone };
}

/** What happened, as a sentence ("Motion at Garden"). */
export function kindSentence(meta, kind, cameraName) {
  const known = meta?.kinds.get(kind);
  return fill(known ? known.sentence : "{camera}: " + kind, { camera: cameraName });
}

/** A kind's short label ("Motion"). */
export function kindLabel(meta, kind) {
  return meta?.kinds.get(kind)?.label || kind;
}

/** A role's label ("Resident"). */
export function roleLabel(meta, role) {
  return meta?.roles.get(role)?.label || role;
}

/** Whether the role reaches cameras at all (the household). */
export function inHousehold(meta, role) {
  const known = meta?.roles.get(role);
  return known ? known.household : role === "owner" || role === "resident";
}

/** Whether the role's one page is "Shared with me" (a neighbour account). */
export function receivesShares(meta, role) {
  return Boolean(meta?.roles.get(role)?.receives_shares);
}

/** Whether this role sends footage requests (an agency): its own page, nothing else. */
export function sendsRequests(meta, role) {
  return Boolean(meta?.roles.get(role)?.sends_requests);
}

/** Capabilities as words ("live video, snapshots, events"). */
export function capabilityWords(meta, list) {
  return list.length ? list.map((c) => meta?.capabilities.get(c) || c.replace(/_/g, " ")).join(", ") : "none";
}

/** "640×480 H264 at 15 fps" for a stream. */
export function streamWords(stream) {
  const size = stream.width && stream.height ? `${stream.width}×${stream.height}` : null;
  return [size, stream.codec, stream.fps ? `at ${stream.fps} fps` : null].filter(Boolean).join(" ") || "details unknown";
}
