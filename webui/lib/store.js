// One store for what several views share (the account, the vocabulary, cameras, the ring), fed
// by the server-push stream; views subscribe while mounted and unsubscribe when they unmount.
import { useEffect, useState } from "./html.js";

/** A tiny observable state: get(), set(patch or fn), subscribe(listener) → unsubscribe. */
export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(patch) {
      const next = typeof patch === "function" ? patch(state) : patch;
      state = { ...state, ...next };
      for (const listener of [...listeners]) listener(state);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listenerCount: () => listeners.size,
  };
}

/** The app's one store. */
export const store = createStore({
  session: "unknown",   // unknown | setup | signed-out | signed-in
  me: null,             // GET /api/session
  meta: null,           // GET /api/meta, indexed (see words.js)
  cameras: null,        // [CameraView] for household accounts
  ring: null,           // the ring on screen: {camera_id, ring_id, started_at, state}
  notice: null,         // a short message over every page: {text, id}
  reauth: null,         // the "confirm it is you" prompt: {post, resolve}
  call: null,           // the call on screen: {camera_id}
  answering: null,      // the ring the banner's Answer opened a call for: {camera_id, ring_id}
});

/** A hook: `selector(state)`, re-rendering when it changes (Object.is). */
export function useStore(selector) {
  const [value, setValue] = useState(() => selector(store.get()));
  useEffect(() => {
    setValue(() => selector(store.get()));
    return store.subscribe((state) => setValue(() => selector(state)));
  }, []);
  return value;
}

const channels = new Map();

/** Listen to a server-push message kind ("camera-event", "camera-state", "ring"); → unsubscribe. */
export function listen(kind, listener) {
  if (!channels.has(kind)) channels.set(kind, new Set());
  channels.get(kind).add(listener);
  return () => channels.get(kind).delete(listener);
}

/** Hand a pushed message to its listeners. */
export function emit(kind, data) {
  for (const listener of [...(channels.get(kind) || [])]) listener(data);
}

/** A hook: listen to `kind` while the component is mounted. */
export function useListen(kind, listener, deps = []) {
  useEffect(() => listen(kind, listener), deps);
}

/** How many listeners are attached (for the tests that check views release theirs). */
export function listenerCounts() {
  const out = { store: store.listenerCount() };
  for (const [kind, set] of channels) if (set.size) out[kind] = set.size;
  return out;
}

/** Replace one camera in the store's list (or add it). */
export function putCamera(camera) {
  store.set((s) => {
    const list = s.cameras || [];
    const found = list.some((c) => c.id === camera.id);
    return { cameras: found ? list.map((c) => (c.id === camera.id ? camera : c)) : [...list, camera] };
  });
}
