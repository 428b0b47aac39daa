// Stored and pushed events grouped into episodes for the activity feed: a motion's start and end
// become one card, the same happening reported by two sources (ONVIF and a webhook) becomes one,
// and "state at subscription" rows (initial) are left out unless asked for.

/** Reports of the same camera and kind this close together are one happening (two sources). */
export const SAME_HAPPENING_MS = 3000;
/** An episode with no end reported this long after it was last seen is no longer "going on". */
export const ONGOING_FOR_MS = 10 * 60 * 1000;

const at = (event) => Date.parse(event.received_at);

function start(event, time) {
  return {
    key: `${event.camera_id}:${event.kind}:${event.id ?? time}`,
    camera_id: event.camera_id, kind: event.kind, start: time, end: null, last: time,
    startSeen: event.active !== false, initial: Boolean(event.initial), sources: new Set(), events: [],
  };
}

function add(episode, event, time) {
  episode.events.push(event);
  if (event.source) episode.sources.add(event.source);
  episode.last = Math.max(episode.last, time);
  episode.initial = episode.initial && Boolean(event.initial);
}

/** Episodes, newest first, from events in any order ({camera_id, kind, active, initial, received_at, source, id}). */
export function episodes(events, { showInitial = false, now = Date.now() } = {}) {
  const sorted = events.filter((e) => showInitial || !e.initial)
    .map((e) => [at(e), e]).filter(([t]) => Number.isFinite(t))
    .sort((a, b) => a[0] - b[0] || (a[1].id ?? 0) - (b[1].id ?? 0));
  const open = new Map();   // camera+kind → the episode still going
  const latest = new Map(); // camera+kind → the last episode (a second source may follow it)
  const out = [];
  for (const [time, event] of sorted) {
    const key = `${event.camera_id}\u0000${event.kind}`;
    const going = open.get(key);
    const before = latest.get(key);
    const recent = before && time - Math.max(before.start, before.end ?? before.start) <= SAME_HAPPENING_MS;
    if (event.active === false) {
      if (going) {
        going.end = time;
        add(going, event, time);
        open.delete(key);
      } else if (recent) {
        before.end = Math.max(before.end ?? time, time);  // another source's end of the same one
        add(before, event, time);
      } else {
        const episode = start(event, time);  // its start was before what we have
        episode.end = time;
        add(episode, event, time);
        out.push(episode);
        latest.set(key, episode);
      }
      continue;
    }
    if (going) { add(going, event, time); continue; }  // still going, or a second source's start
    if (recent) {
      add(before, event, time);  // the same happening, reported twice
      if (event.active === true && before.end !== null) { before.end = null; open.set(key, before); }
      continue;
    }
    const episode = start(event, time);
    if (event.active === null) episode.end = time;  // a pulse (a press): no duration
    add(episode, event, time);
    out.push(episode);
    latest.set(key, episode);
    if (event.active === true) open.set(key, episode);
  }
  for (const episode of out) {
    episode.ongoing = episode.end === null && now - episode.last < ONGOING_FOR_MS;
    episode.sources = [...episode.sources];
  }
  return out.sort((a, b) => b.start - a.start);
}

/** Seconds an episode lasted (null when it had no end or is a single moment). */
export function lasted(episode) {
  if (episode.end === null || !episode.startSeen) return null;
  const seconds = (episode.end - episode.start) / 1000;
  return seconds >= 1 ? seconds : null;
}
