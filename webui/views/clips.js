// Recorded clips: every camera's (or one camera's) clips by day, a day timeline with the events
// on it, and the player: plays at once in the page, previous/next, download, and for the owner
// hold (with a reason), release and delete.
import { api } from "../lib/api.js";
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { clock, dayLabel, exactly } from "../lib/format.js";
import { useLoad } from "../lib/load.js";
import { go } from "../lib/router.js";
import { useStore } from "../lib/store.js";
import { kindLabel } from "../lib/words.js";
import { useConfirm } from "../components/dialogs.js";
import { ShareDialog } from "../components/share-dialog.js";
import { Icon } from "../components/icons.js";
import { Empty, ErrorText, Field, LoadFailed, Loading, PageHead } from "../components/ui.js";

const PAGE = 100;
const DAY_MS = 24 * 3600 * 1000;

function localDay(value) {
  const d = new Date(value);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function dayRange(day) {
  const [y, m, d] = day.split("-").map(Number);
  const start = new Date(y, m - 1, d);
  return [start, new Date(start.getTime() + DAY_MS)];
}

function clipQuery({ camera, kind, day, before }) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (camera) query.append("camera", camera);
  if (kind) query.append("kind", kind);
  if (day) {
    const [since, until] = dayRange(day);
    query.append("since", since.toISOString());
    query.append("until", until.toISOString());
  }
  if (before) query.append("before", before);
  return `/api/clips?${query}`;
}

/** The kinds a clip covers, in words ("Doorbell, motion"), or its mode. */
function clipWhat(meta, clip) {
  if (clip.kinds.length) return clip.kinds.map((k) => kindLabel(meta, k)).join(", ");
  return clip.mode === "continuous" ? "Continuous recording" : "Recording";
}

/** One clip as a card in the list: poster, when, how long, what; held clips are marked. */
export function ClipCard({ clip, meta, name, selected, onPick }) {
  return html`<button type="button" class=${`clip-card${selected ? " selected" : ""}`} data-clip=${clip.id}
      aria-pressed=${selected ? "true" : "false"} onClick=${() => onPick(clip)}>
    ${clip.poster
      ? html`<img class="clip-poster" src=${clip.poster} alt="" loading="lazy" width="160" height="90" />`
      : html`<span class="clip-poster empty" aria-hidden="true"><${Icon} name="film" size=${26} /></span>`}
    <span class="clip-text">
      <span class="clip-when"><time datetime=${clip.started_at} title=${exactly(clip.started_at)}>${new Date(clip.started_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}</time>${" · "}${clock(clip.duration_s)}</span>
      <span class="clip-what small">${name ? html`<strong>${name}</strong> · ` : null}${clipWhat(meta, clip)}</span>
      ${clip.held ? html`<span class="pill held"><${Icon} name="lock" size=${14} /> Held</span>` : null}
      ${clip.recovered ? html`<span class="pill">Recovered after a crash</span>` : null}
    </span>
  </button>`;
}

/** A day of one camera: its clips as bars on 24 hours, the events as ticks; click to play. */
export function DayTimeline({ day, clips, events = [], selected, onPick }) {
  const [start] = dayRange(day);
  const at = (value) => Math.max(0, Math.min(100, ((new Date(value) - start) / DAY_MS) * 100));
  return html`<div class="day-timeline" role="group" aria-label=${`Clips on ${dayLabel(start)}`}>
    <div class="track">
      ${clips.map((c) => html`<button type="button" key=${c.id} class=${`span${c.id === selected ? " selected" : ""}${c.held ? " held" : ""}`}
          style=${`left:${at(c.started_at)}%;width:max(${at(c.ended_at || c.started_at) - at(c.started_at)}%, 4px)`}
          title=${`${exactly(c.started_at)} · ${clock(c.duration_s)}`} aria-label=${`Play the clip of ${exactly(c.started_at)}`}
          onClick=${() => onPick(c)}></button>`)}
      ${events.map((e, i) => html`<span key=${i} class=${`tick kind-${e.kind}`} style=${`left:${at(e.received_at)}%`} title=${`${e.kind} ${exactly(e.received_at)}`}></span>`)}
    </div>
    <div class="hours muted small" aria-hidden="true"><span>0:00</span><span>6:00</span><span>12:00</span><span>18:00</span><span>24:00</span></div>
  </div>`;
}

function HoldForm({ clip, onDone }) {
  const [reason, setReason] = useState("");
  const [until, setUntil] = useState("");
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const body = { reason: reason.trim() };
      if (until) body.until = new Date(`${until}T23:59:59`).toISOString();
      onDone(await api("POST", `/api/clips/${encodeURIComponent(clip.id)}/hold`, body));
    } catch (err) { setError(err); }
  };
  return html`<form class="hold-form" onSubmit=${submit}>
    <${Field} label="Why it must be kept"><input name="reason" required maxlength="500" value=${reason}
      onInput=${(e) => setReason(e.currentTarget.value)} placeholder="e.g. the parcel theft on Monday" /></${Field}>
    <${Field} label="Keep until" hint="Empty: until you release it"><input type="date" name="until" value=${until}
      onInput=${(e) => setUntil(e.currentTarget.value)} /></${Field}>
    <${ErrorText} error=${error} />
    <button type="submit" class="primary"><${Icon} name="lock" /> Hold this clip</button>
  </form>`;
}

/** The player of one clip, with what can be done with it. */
export function ClipPlayer({ clip, name, meta, owner, onPrev, onNext, onChanged, onDeleted }) {
  const video = useRef(null);
  const [holding, setHolding] = useState(false);
  const [sharing, setSharing] = useState(false);
  const [error, setError] = useState(null);
  const [confirmDialog, confirm] = useConfirm();
  useEffect(() => { setHolding(false); setError(null); video.current?.focus(); }, [clip.id]);
  const release = async () => {
    try { onChanged(await api("DELETE", `/api/clips/${encodeURIComponent(clip.id)}/hold`)); } catch (err) { setError(err); }
  };
  const remove = async () => {
    if (!await confirm({ title: "Delete this clip?", text: "The video is gone for good; the audit log keeps that you deleted it.", confirm: "Delete" })) return;
    try { await api("DELETE", `/api/clips/${encodeURIComponent(clip.id)}`); onDeleted(clip); } catch (err) { setError(err); }
  };
  return html`<section class="card clip-player" aria-label="Player">
    <video ref=${video} id="clip-video" key=${clip.id} src=${clip.video} controls autoplay muted playsinline preload="auto"
      poster=${clip.poster || undefined}></video>
    <div class="clip-meta">
      <p><strong>${name}</strong> · ${exactly(clip.started_at)} · ${clock(clip.duration_s)} · ${clipWhat(meta, clip)}
        ${clip.held ? html` · <span class="pill held"><${Icon} name="lock" size=${14} /> Held</span>` : null}</p>
      <div class="actions">
        <button type="button" class="ghost" id="clip-prev" disabled=${!onPrev} onClick=${onPrev}><${Icon} name="back" /> Earlier</button>
        <button type="button" class="ghost" id="clip-next" disabled=${!onNext} onClick=${onNext}>Later <${Icon} name="chevron" /></button>
        <a class="button ghost" id="clip-download" href=${`${clip.video}?download=1`} download><${Icon} name="download" /> Download</a>
        ${owner ? html`<button type="button" class="ghost" id="clip-share" onClick=${() => setSharing(true)}><${Icon} name="send" /> Share</button>` : null}
        ${owner && !clip.held ? html`<button type="button" class="ghost" id="clip-hold" aria-expanded=${holding ? "true" : "false"} onClick=${() => setHolding(!holding)}><${Icon} name="lock" /> Hold</button>` : null}
        ${owner && clip.held ? html`<button type="button" class="ghost" id="clip-release" onClick=${release}>Release the hold</button>` : null}
        ${owner && !clip.held ? html`<button type="button" class="ghost danger" id="clip-delete" onClick=${remove}><${Icon} name="trash" /> Delete</button>` : null}
      </div>
      ${holding ? html`<${HoldForm} clip=${clip} onDone=${(c) => { setHolding(false); onChanged(c); }} />` : null}
      <${ErrorText} error=${error} />
      ${clip.sha256 ? html`<p class="muted small">SHA-256 <code class="hash">${clip.sha256}</code></p>` : null}
    </div>
    ${confirmDialog}
    ${sharing ? html`<${ShareDialog} clip=${clip} onClose=${() => setSharing(false)} />` : null}
  </section>`;
}

/** A camera page's clips: today's timeline with its events, the latest clips, the player. */
export function CameraClips({ camera, meta }) {
  const me = useStore((s) => s.me);
  const day = localDay(Date.now());
  const [selected, setSelected] = useState(null);
  const id = encodeURIComponent(camera.id);
  const { data, error, reload } = useLoad((signal) => api("GET", clipQuery({ camera: camera.id, day }), undefined, { signal }), [camera.id]);
  const [since, until] = dayRange(day);
  const events = useLoad((signal) => api("GET", `/api/events?camera=${id}&limit=500&before=${encodeURIComponent(until.toISOString())}`, undefined, { signal }), [camera.id]);
  const clips = data ? data.clips : [];
  const ticks = (events.data?.events || []).filter((e) => new Date(e.received_at) >= since && e.active !== false && !e.initial);
  const index = selected ? clips.findIndex((c) => c.id === selected.id) : -1;
  const current = index >= 0 ? clips[index] : selected;
  return html`<section class="card camera-clips">
    <h2><${Icon} name="film" /> Clips today</h2>
    <${ErrorText} error=${error} />
    ${!data && !error ? html`<${Loading} />` : html`<${DayTimeline} day=${day} clips=${clips} events=${ticks} selected=${current?.id} onPick=${setSelected} />`}
    ${current ? html`<${ClipPlayer} clip=${current} name=${camera.name} meta=${meta} owner=${me?.role === "owner"}
        onPrev=${index >= 0 && index < clips.length - 1 ? () => setSelected(clips[index + 1]) : null}
        onNext=${index > 0 ? () => setSelected(clips[index - 1]) : null}
        onChanged=${(c) => { setSelected(c); reload(); }} onDeleted=${() => { setSelected(null); reload(); }} />` : null}
    ${data && !clips.length ? html`<p class="muted">No clips today.</p>` : null}
    ${clips.length ? html`<div class="clip-grid">${clips.slice(0, 6).map((c) => html`<${ClipCard} key=${c.id} clip=${c} meta=${meta}
        selected=${current?.id === c.id} onPick=${setSelected} />`)}</div>` : null}
    <p><a href=${`#/clips/${id}`}>All clips of ${camera.name}</a></p>
  </section>`;
}

/** The clips page; `cameraId` preselects a camera (#/clips/<id>). */
export function ClipsView({ cameraId }) {
  const cameras = useStore((s) => s.cameras) || [];
  const meta = useStore((s) => s.meta);
  const me = useStore((s) => s.me);
  const [kind, setKind] = useState("");
  const [day, setDay] = useState("");
  const [pages, setPages] = useState([]);
  const [selected, setSelected] = useState(null);
  const camera = cameraId || "";
  const { data, error, reload } = useLoad((signal) => {
    setPages([]);
    return api("GET", clipQuery({ camera, kind, day }), undefined, { signal });
  }, [camera, kind, day]);
  const clips = useMemo(() => [...(data ? data.clips : []), ...pages.flatMap((p) => p.clips)], [data, pages]);
  const more = (pages.length ? pages[pages.length - 1] : data)?.next_before;
  const names = Object.fromEntries(cameras.map((c) => [c.id, c.name]));
  const index = selected ? clips.findIndex((c) => c.id === selected.id) : -1;
  const current = index >= 0 ? clips[index] : selected;
  const loadMore = async () => setPages([...pages, await api("GET", clipQuery({ camera, kind, day, before: more }))]);
  const replace = (clip) => { setSelected(clip); reload(); };
  const days = useMemo(() => {
    const found = [];
    for (const clip of clips) {
      const label = dayLabel(clip.started_at);
      if (!found.length || found[found.length - 1].label !== label) found.push({ label, clips: [] });
      found[found.length - 1].clips.push(clip);
    }
    return found;
  }, [clips]);
  const pick = (e) => go(e.currentTarget.value ? `#/clips/${encodeURIComponent(e.currentTarget.value)}` : "#/clips");
  return html`<div class="page clips">
    <${PageHead} title="Clips" subtitle="What your cameras recorded, newest first." />
    <form class="filters card" onSubmit=${(e) => e.preventDefault()}>
      <${Field} label="Camera"><select name="camera" value=${camera} onChange=${pick}>
        <option value="">All cameras</option>
        ${cameras.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
      </select></${Field}>
      <${Field} label="What"><select name="kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
        <option value="">Everything</option>
        ${(meta?.kindList || []).map((k) => html`<option value=${k.kind}>${k.label}</option>`)}
      </select></${Field}>
      <${Field} label="Day"><input type="date" name="day" value=${day} max=${localDay(Date.now())}
        onInput=${(e) => setDay(e.currentTarget.value)} /></${Field}>
    </form>
    ${current ? html`<${ClipPlayer} clip=${current} name=${names[current.camera_id] || current.camera_id} meta=${meta}
        owner=${me?.role === "owner"}
        onPrev=${index >= 0 && index < clips.length - 1 ? () => setSelected(clips[index + 1]) : null}
        onNext=${index > 0 ? () => setSelected(clips[index - 1]) : null}
        onChanged=${replace} onDeleted=${() => { setSelected(null); reload(); }} />` : null}
    ${camera && day && clips.length ? html`<section class="card"><h2>The day at ${names[camera] || camera}</h2>
        <${DayTimeline} day=${day} clips=${clips} selected=${current?.id} onPick=${setSelected} /></section>` : null}
    ${error ? html`<${LoadFailed} error=${error} retry=${reload} />` : !data ? html`<${Loading} />` : !clips.length
      ? html`<${Empty} icon="film" title="No clips yet." id="no-clips">Cameras record when something happens (or around the clock, if set so in Settings).</${Empty}>`
      : html`${days.map((d) => html`<section class="clip-day" key=${d.label}><h2 class="day">${d.label}</h2>
          <div class="clip-grid">${d.clips.map((c) => html`<${ClipCard} key=${c.id} clip=${c} meta=${meta}
            name=${camera ? null : names[c.camera_id] || c.camera_id} selected=${current?.id === c.id}
            onPick=${(clip) => { setSelected(clip); window.scrollTo({ top: 0 }); }} />`)}</div></section>`)}
        ${more ? html`<p><button type="button" class="ghost" id="more-clips" onClick=${loadMore}>Earlier clips</button></p>` : null}`}
  </div>`;
}
