// The activity feed: what happened at each camera as one card per episode (a ring, a motion),
// newest first and live; filters by camera and kind; the raw event rows for the curious.
import { api } from "../lib/api.js";
import { html, useMemo, useState } from "../lib/html.js";
import { episodes } from "../lib/episodes.js";
import { dayLabel, exactly } from "../lib/format.js";
import { useInterval, useLoad } from "../lib/load.js";
import { go } from "../lib/router.js";
import { useSnapshots } from "../lib/snapshots.js";
import { useListen, useStore } from "../lib/store.js";
import { kindLabel } from "../lib/words.js";
import { EpisodeCard } from "../components/episode-card.js";
import { hasSnapshot } from "../components/snapshot.js";
import { Empty, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";

const LIMIT = 200;
const MAX_LIVE = 500;

function byDay(list) {
  const days = [];
  for (const episode of list) {
    const label = dayLabel(episode.start);
    if (!days.length || days[days.length - 1].label !== label) days.push({ label, episodes: [] });
    days[days.length - 1].episodes.push(episode);
  }
  return days;
}

function RawTable({ events, names }) {
  return html`<div class="scroll raw-table" tabindex="0" role="region" aria-label="Raw events"><table class="timeline">
    <caption class="sr-only">Raw events, newest first</caption>
    <thead><tr><th scope="col">When</th><th scope="col">Camera</th><th scope="col">Kind</th><th scope="col">What</th><th scope="col">Source</th></tr></thead>
    <tbody>${events.map((e, i) => html`<tr data-kind=${e.kind} key=${e.id ?? `live-${i}-${e.received_at}`}>
      <td class="nowrap">${exactly(e.received_at)}</td><td>${names[e.camera_id] || e.camera_id}</td>
      <td><code>${e.kind}</code></td>
      <td>${e.active === null ? "happened" : e.active ? "started" : "ended"}${e.initial ? " (state)" : ""}</td>
      <td class="muted">${e.source || ""}</td></tr>`)}</tbody>
  </table></div>`;
}

/** A lookup episode → the clip recorded while it happened (clips of the listed span, reloaded
 * when a newer episode arrives and every minute). */
function useEpisodeClips(list, camera) {
  const oldest = list.length ? list[list.length - 1].start : null;
  const newest = list.length ? list[0].start : null;
  const [tick, setTick] = useState(0);
  useInterval(() => setTick((t) => t + 1), 60000);
  const { data } = useLoad((signal) => {
    if (oldest === null) return Promise.resolve({ clips: [] });
    const query = new URLSearchParams({ limit: "500", since: new Date(oldest - 60000).toISOString() });
    if (camera) query.append("camera", camera);
    return api("GET", `/api/clips?${query}`, undefined, { signal });
  }, [oldest, newest, camera, tick]);
  return (episode) => (data?.clips || []).find((c) => c.camera_id === episode.camera_id
    && new Date(c.started_at) <= episode.start && episode.start <= new Date(c.ended_at || c.started_at)) || null;
}

/** The activity page; `cameraId` preselects a camera (#/activity/<id>). */
export function ActivityView({ cameraId }) {
  const cameras = useStore((s) => s.cameras) || [];
  const meta = useStore((s) => s.meta);
  const [kind, setKind] = useState("");
  const [showInitial, setShowInitial] = useState(false);
  const [raw, setRaw] = useState(false);
  const [live, setLive] = useState([]);
  const [now, setNow] = useState(Date.now);
  const camera = cameraId || "";
  const query = new URLSearchParams({ limit: String(LIMIT) });
  if (camera) query.append("camera", camera);
  if (kind) query.append("kind", kind);
  const { data, error, reload } = useLoad((signal) => {
    setLive([]);
    return api("GET", `/api/events?${query}`, undefined, { signal });
  }, [camera, kind]);
  useListen("camera-event", (e) => {
    if ((camera && e.camera_id !== camera) || (kind && e.kind !== kind)) return;
    setLive((list) => [e, ...list].slice(0, MAX_LIVE));
  }, [camera, kind]);
  useInterval(() => setNow(Date.now()), 30000);
  const events = useMemo(() => [...live, ...(data ? data.events : [])], [live, data]);
  const list = useMemo(() => episodes(events, { showInitial, now }), [events, showInitial, now]);
  const names = Object.fromEntries(cameras.map((c) => [c.id, c.name]));
  const thumbs = useSnapshots(cameras.filter(hasSnapshot));
  const clips = useEpisodeClips(list, camera);
  const pick = (e) => go(e.currentTarget.value ? `#/activity/${encodeURIComponent(e.currentTarget.value)}` : "#/activity");
  return html`<div class="page activity">
    <${PageHead} title="Activity" subtitle="What your cameras noticed, newest first." />
    <form class="filters card" onSubmit=${(e) => e.preventDefault()}>
      <${Field} label="Camera"><select name="camera" value=${camera} onChange=${pick}>
        <option value="">All cameras</option>
        ${cameras.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
      </select></${Field}>
      <${Field} label="What"><select name="kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
        <option value="">Everything</option>
        ${(meta?.kindList || []).map((k) => html`<option value=${k.kind}>${k.label}</option>`)}
      </select></${Field}>
      <label class="check"><input type="checkbox" name="initial" checked=${showInitial}
        onChange=${(e) => setShowInitial(e.currentTarget.checked)} /><span>Include what cameras reported when Doorstep connected</span></label>
      <button type="button" class="secondary" id="raw-toggle" aria-expanded=${raw ? "true" : "false"} onClick=${() => setRaw(!raw)}>
        ${raw ? "Hide raw events" : "Show raw events"}</button>
    </form>
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />` : null}
    ${raw && data ? html`<${RawTable} events=${events} names=${names} />` : null}
    ${data && !list.length ? html`<${Empty} icon="activity" title="Nothing to show yet">
      ${kind || camera ? "Nothing matches these filters." : "Rings and motion will appear here as they happen."}</${Empty}>` : null}
    ${byDay(list).map((day) => html`<section class="day" key=${day.label}>
      <h2 class="day-label">${day.label}</h2>
      <div class="episodes">${day.episodes.map((e) => html`<${EpisodeCard} key=${e.key} episode=${e} meta=${meta}
        name=${names[e.camera_id] || e.camera_id} thumb=${thumbs[e.camera_id] || null} clip=${clips(e)} />`)}</div>
    </section>`)}
    ${data && data.events.length >= LIMIT ? html`<p class="muted small">Showing the latest ${LIMIT} events${kind ? ` of ${kindLabel(meta, kind)}` : ""}.</p>` : null}
  </div>`;
}
