"""One camera's recorder: a consumer of the stream hub that decides when a clip starts and ends.

- `events` mode: a clip opens when a configured event kind becomes active (a doorbell press
  always counts), starting at the pre-roll's keyframe, and ends `postroll_s` after the last
  active event ends. Overlapping events extend one clip.
- `continuous` mode: back-to-back segments of `segment_s`, the events marked on them.
- Either way a clip longer than its maximum is split at a keyframe into consecutive clips with
  no gap; a stream that stalls ends the clip at what arrived; a new picture size (a camera that
  rebooted with other settings) starts a new clip.

The bytes are made and written on the clip's writer thread (writer.py); here is bookkeeping only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from doorstep.gateway.media.consumer import AudioChunk, Consumer
from doorstep.gateway.recording.audio import AudioPayload
from doorstep.gateway.recording.clip_file import ClipFile, ClosedClip
from doorstep.gateway.recording.frames import Frame, Preroll, TimedAudio, sent_before_last
from doorstep.gateway.recording.policy import RecordingPolicy
from doorstep.gateway.recording.retention import DISK_FULL
from doorstep.gateway.recording.timeline import ClipTimeline
from doorstep.gateway.recording.writer import ClipWriter, WriteFailed
from doorstep.protocols.fmp4 import VideoTrack
from doorstep.protocols.h264 import split_annexb
from doorstep.protocols.h264_sps import SpsError, SpsInfo, parse_sps

_log = logging.getLogger(__name__)

STALL_S = 3.0  # no frame for this long: the stream broke, the clip ends at what arrived
WATCH_EVERY_S = 0.5
ERROR_RETRY_S = 30.0  # after a disk error, the next clip is tried this much later
PREROLL_BYTES = 48 * 1024 * 1024
STOP_WAIT_S = 1.5
G711_RATE = 8000  # the clock of G.711's static RTP payload types
VIDEO_CLOCK = 90_000  # H.264's RTP clock


@dataclass(slots=True)
class ClipDraft:
    """What the recorder knows of a clip besides its file: for its database row and poster."""

    id: str
    camera_id: str
    relative: Path
    mode: str
    started_wall: float
    picture: SpsInfo
    first_keyframe: bytes
    kinds: set[str] = field(default_factory=set)


Registered = Callable[[ClipDraft, ClosedClip | None, WriteFailed | None], Awaitable[None]]
Gate = Callable[[], str | None]
"""Why no clip may open now (e.g. "disk full"), or None."""


def clip_path(camera_id: str, mode: str, started: datetime, clip_id: str) -> Path:
    """Where a clip lives under the clip root: camera / mode / UTC day / time-id.mp4, the time
    to the millisecond (the file alone says enough to register it again after a crash)."""
    name = f"{started:%H%M%S}{started.microsecond // 1000:03d}-{clip_id}.mp4"
    return Path(camera_id, mode, started.strftime("%Y-%m-%d"), name)


def video_track(keyframe: bytes) -> tuple[VideoTrack, SpsInfo] | None:
    """The track a keyframe's parameter sets describe (None without readable SPS and PPS)."""
    nals = split_annexb(keyframe)
    sps = next((n for n in nals if n[0] & 0x1F == 7), None)
    pps = next((n for n in nals if n[0] & 0x1F == 8), None)
    if sps is None or pps is None:
        return None
    try:
        info = parse_sps(sps)
    except SpsError:
        return None
    return VideoTrack(sps, pps, info.width, info.height), info


@dataclass(slots=True)
class _OpenClip:
    draft: ClipDraft
    sps: bytes
    timeline: ClipTimeline
    writer: ClipWriter


class CameraRecorder:
    """Records one camera stream by its policy; `trigger` feeds it the camera's events."""

    def __init__(
        self,
        camera_id: str,
        consume: Callable[[bool], Consumer],
        policy: RecordingPolicy,
        root: Path,
        registered: Registered,
        gate: Gate = lambda: None,
        now: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.camera_id = camera_id
        self.policy = policy
        self._consume = consume
        self._root = root
        self._registered = registered
        self._gate = gate
        self._now, self._wall = now, wall
        self._preroll = Preroll(policy.preroll_s, PREROLL_BYTES)
        self._clip: _OpenClip | None = None
        self._active: set[str] = set()
        self._quiet_since: float | None = None
        self._trigger_at: float | None = None
        self._kinds_seen: set[str] = set()
        self._last_at: float | None = None
        """When the last read with video came (the stall watch)."""
        self._dated = float("-inf")
        """The arrival time given to the newest frame."""
        self._audio_format: tuple[str, int] | None = None
        self._consumer: Consumer | None = None
        self._error_until = 0.0
        self.error: str | None = None
        self.blocked: str | None = None
        self.clips_opened = 0
        self._task: asyncio.Task[None] | None = None
        self._writers: set[asyncio.Task[None]] = set()

    @property
    def alive(self) -> bool:
        """Its task is running (it ends if the camera's stream cannot be read at all)."""
        return self._task is not None and not self._task.done()

    @property
    def recording(self) -> bool:
        """A clip is open."""
        return self._clip is not None

    def start(self) -> None:
        """Start reading the stream."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"recorder:{self.camera_id}")

    async def stop(self) -> None:
        """Close the open clip at what arrived and stop; waits for its file to be closed."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._end_clip()
        if self._writers:
            # Bounded, so a stop fits the gateway's shutdown budget: a clip still closing then
            # is a `.part`, finished at the next start.
            await asyncio.wait(self._writers, timeout=STOP_WAIT_S)

    def trigger(self, kind: str, active: bool | None) -> None:
        """An event of the camera: `active` True/False for a state, None for a momentary one."""
        if self._clip is not None:
            self._clip.draft.kinds.add(kind)
        if self.policy.mode != "events" or not self.policy.records(kind):
            return
        now = self._now()
        if active is False:
            # Only the end of something active starts the post-roll: a camera re-sending
            # "no motion" (its state after a reconnect) records nothing.
            if kind in self._active:
                self._active.discard(kind)
                if not self._active:
                    self._quiet_since = now
            return
        if self._clip is None and self._trigger_at is None:
            self._trigger_at = now
            if self._consumer is not None:
                self._consumer.hurry()  # the clip opens on the next frame: read it now
        self._kinds_seen.add(kind)
        if active:
            self._active.add(kind)
        else:
            self._quiet_since = now  # a press: the post-roll runs from it

    def _wants(self, now: float) -> bool:
        if self.policy.mode == "continuous":
            return True
        if self.policy.mode != "events":
            return False
        if self._active:
            return True
        return self._quiet_since is not None and now - self._quiet_since < self.policy.postroll_s

    async def _run(self) -> None:
        try:
            consumer = self._consumer = self._consume(self.policy.audio)
        except Exception as exc:  # the camera offers no stream now: started again when it is online
            _log.info("recording %s: waiting for the camera's stream (%s)", self.camera_id, exc)
            return
        watch = asyncio.create_task(self._watch(), name=f"recorder-watch:{self.camera_id}")
        try:
            while True:
                # A read's frames and audio at once: up to half a second of media that
                # arrived together, each dated back from now by its RTP timestamp.
                units, chunks = await consumer.get_media()
                now, wall = self._now(), self._wall()
                if units:
                    if self._last_at is not None and now - self._last_at > STALL_S:
                        self._stalled()
                    self._last_at = now
                    ages = sent_before_last([u.timestamp for u in units], VIDEO_CLOCK)
                    for unit, age in zip(units, ages, strict=True):
                        at = self._dated = max(now - age, self._dated)  # never before the last
                        frame = Frame(unit, at, wall - (now - at))
                        self._preroll.add(frame)
                        self._step(frame)
                if chunks:
                    self._add_audio(chunks, now)
        finally:
            watch.cancel()
            consumer.close()

    def _add_audio(self, chunks: list[AudioChunk], now: float) -> None:
        ages = sent_before_last([c.timestamp for c in chunks], chunks[-1].clock_rate)
        for chunk, age in zip(chunks, ages, strict=True):
            self._audio_format = (chunk.encoding, chunk.clock_rate)
            audio = TimedAudio(AudioPayload(chunk.data, chunk.timestamp), now - age)
            self._preroll.add_audio(audio)
            if self._clip is not None:
                self._clip.timeline.add_audio(audio)

    async def _watch(self) -> None:
        """End the clip of a stream that went quiet (no frame arrives to notice it)."""
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            if self._last_at is not None and self._now() - self._last_at > STALL_S:
                self._stalled()

    def _stalled(self) -> None:
        if self._clip is not None:
            _log.info("recording %s: the stream stalled; the clip ends at what arrived",
                      self.camera_id)  # fmt: skip
            self._end_clip()
        self._preroll.clear()
        self._last_at = None

    def _step(self, frame: Frame) -> None:
        clip = self._clip
        if not self._wants(frame.at):
            if clip is not None:
                # The first frame past the post-roll still goes in, and the clip ends after it:
                # frames are stamped on arrival, a read after the camera sent them, so without
                # it a clip could end a few ms short of its post-roll (seen on a loaded machine).
                # Not a keyframe of another picture size: the clip's decoder could not show it.
                new_picture = frame.keyframe and self._sps_of(frame) not in (None, clip.sps)
                job = None if new_picture else clip.timeline.add(frame)
                if job is not None:
                    clip.writer.write(job)
                self._end_clip()
            self._trigger_at = None
            return
        if clip is None:
            self._open(frame)
            return
        if frame.keyframe and self._gate() == DISK_FULL:
            # Only held clips are left on a disk short of space: stop at a keyframe, so what is
            # on disk stays whole and the disk never runs out under an open clip.
            self._end_clip(at=frame)
            return
        if frame.keyframe:
            limit = (self.policy.segment_s if self.policy.mode == "continuous"
                     else self.policy.max_clip_s)  # fmt: skip
            first = clip.timeline.first
            too_long = first is not None and frame.at - first.at >= limit
            new_picture = self._sps_of(frame) not in (None, clip.sps)
            if too_long or new_picture:
                self._end_clip(at=frame)
                self._open(frame)
                return
        job = clip.timeline.add(frame)
        if job is not None:
            clip.writer.write(job)

    def _sps_of(self, frame: Frame) -> bytes | None:
        return next((n for n in split_annexb(frame.unit.data) if n[0] & 0x1F == 7), None)

    def _open(self, frame: Frame) -> None:
        """Open a clip from the pre-roll (or from this frame); waits for a keyframe."""
        now = frame.at
        if now < self._error_until:
            return
        self.blocked = self._gate()
        if self.blocked is not None:
            return
        since = now if self._trigger_at is None else self._trigger_at - self.policy.preroll_s
        frames, audio = self._preroll.take(since)
        if not frames:
            return
        found = video_track(frames[0].unit.data)
        if found is None:
            return  # a keyframe without readable parameter sets: wait for the next one
        track, picture = found
        started = datetime.fromtimestamp(frames[0].wall, UTC)
        clip_id = secrets.token_urlsafe(16)
        relative = clip_path(self.camera_id, self.policy.mode, started, clip_id)
        kinds = set(self._kinds_seen | self._active)
        draft = ClipDraft(clip_id, self.camera_id, relative, self.policy.mode, frames[0].wall,
                          picture, frames[0].unit.data, kinds)  # fmt: skip
        self._kinds_seen.clear()
        timeline = ClipTimeline()
        writer = ClipWriter(
            ClipFile(self._root, relative),
            lambda closed, failed: self._finished(draft, closed, failed),
        )
        self._writers.add(writer.task)
        writer.task.add_done_callback(self._writers.discard)
        audio_format = self._audio_format
        if audio_format is None and self._consumer is not None:
            encoding = self._consumer.audio_encoding  # from the SDP: no payload seen yet
            audio_format = (encoding, G711_RATE) if encoding else None
        audio_format = audio_format if self.policy.audio else None
        writer.open(track, audio_format, frames[0].at)
        self._clip = _OpenClip(draft, track.sps, timeline, writer)
        self.clips_opened += 1
        self._trigger_at = None
        pending: list[Frame | TimedAudio] = sorted([*frames, *audio], key=lambda item: item.at)
        for item in pending:
            if isinstance(item, Frame):
                job = timeline.add(item)
                if job is not None:
                    writer.write(job)
            else:
                timeline.add_audio(item)

    def _end_clip(self, at: Frame | None = None) -> None:
        """Close the open clip; `at`: the frame the next clip starts with (ends this one's
        last frame exactly where that one begins)."""
        clip, self._clip = self._clip, None
        if clip is None:
            return
        job = clip.timeline.finish(before=at)
        if job is not None:
            clip.writer.write(job)
        clip.writer.close()

    async def _finished(self, draft: ClipDraft, closed: ClosedClip | None,
                        failed: WriteFailed | None) -> None:  # fmt: skip
        if failed is not None:
            self.error = failed.reason
            if not failed.disk_full:
                self._error_until = self._now() + ERROR_RETRY_S
            if self._clip is not None and self._clip.draft is draft:
                self._clip = None  # its writer gave up: the next frame may open a new one
        else:
            self.error = None
        await self._registered(draft, closed, failed)
