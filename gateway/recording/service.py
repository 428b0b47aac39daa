"""Recording for every camera: a recorder per camera, fed its events from the bus, its clips
registered in the database with their poster once their files are safely on disk."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.events import BusEvent, CameraEventReceived, CameraState, CameraStateChanged
from doorstep.gateway.media.consumer import Consumer
from doorstep.gateway.recording.clip_file import ClosedClip
from doorstep.gateway.recording.policy import RecordingPolicy
from doorstep.gateway.recording.poster import PosterError, write_poster
from doorstep.gateway.recording.recorder import CameraRecorder, ClipDraft
from doorstep.gateway.recording.writer import WriteFailed
from doorstep.gateway.storage import ClipRecord, ClipRepository, EventRepository, StorageError

_log = logging.getLogger(__name__)

CLIPS_DIR = "clips"
"""The clip root's name inside the data directory."""

Consume = Callable[[str, bool], Consumer]
"""A consumer of a camera's stream from the hub (raises while the camera offers none)."""


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """A camera's recording state for the cameras grid and `/api/health`."""

    state: str  # recording | idle | paused | error | off
    reason: str | None = None


class Recording:
    """Starts, feeds and stops the cameras' recorders; registers what they record."""

    def __init__(
        self,
        bus: EventBus,
        consume: Consume,
        policy: Callable[[str], RecordingPolicy],
        clips: ClipRepository,
        events: EventRepository,
        root: Path,
        *,
        gate: Callable[[], str | None] = lambda: None,
        clock_offset: Callable[[str], float | None] = lambda _: None,
        has_stream: Callable[[str], bool] = lambda _: True,
        disk_full: Callable[[], None] = lambda: None,
        camera_back: Callable[[str], None] = lambda _: None,
    ) -> None:
        self._bus = bus
        self._consume = consume
        self._policy = policy
        self._clips = clips
        self._events = events
        self.root = root
        self._gate = gate
        self._clock_offset = clock_offset
        self._has_stream = has_stream
        self._disk_full = disk_full
        self._camera_back = camera_back
        self.recorders: dict[str, CameraRecorder] = {}
        self._cameras: set[str] = set()
        self._subscription: Subscription[BusEvent] | None = None
        self._posters: set[asyncio.Task[None]] = set()
        self.registered = 0
        self.failures = 0

    def start(self, camera_ids: list[str]) -> None:
        """Follow the bus; start a recorder for each camera that records and has a stream."""
        self._subscription = self._bus.subscribe(
            "recording", self._handle, (CameraEventReceived, CameraStateChanged)
        )
        for camera_id in camera_ids:
            self.ensure(camera_id)

    def ensure(self, camera_id: str) -> None:
        """Start the camera's recorder if its mode records and it has none (or stop it if its
        mode is now off); a camera without a stream yet is tried again when it comes online."""
        self._cameras.add(camera_id)
        policy = self._policy(camera_id)
        current = self.recorders.get(camera_id)
        if current is not None and current.policy == policy and current.alive:
            return
        if current is not None:
            self.recorders.pop(camera_id)
            task = asyncio.create_task(current.stop(), name=f"recorder-stop:{camera_id}")
            self._posters.add(task)
            task.add_done_callback(self._posters.discard)
        if policy.mode == "off" or not self._has_stream(camera_id):
            return
        recorder = CameraRecorder(
            camera_id, lambda audio: self._consume(camera_id, audio), policy, self.root,
            self._register, self._gate,
        )  # fmt: skip
        self.recorders[camera_id] = recorder
        recorder.start()

    def reapply(self) -> None:
        """The recording settings changed: each camera's recorder follows its new policy."""
        for camera_id in sorted(self._cameras):
            self.ensure(camera_id)

    async def remove(self, camera_id: str) -> None:
        """Stop a camera's recorder (the camera was removed); its clips stay."""
        self._cameras.discard(camera_id)
        recorder = self.recorders.pop(camera_id, None)
        if recorder is not None:
            await recorder.stop()

    def status(self, camera_id: str) -> RecordingStatus:
        """What the camera's recorder is doing now."""
        recorder = self.recorders.get(camera_id)
        if recorder is None:
            return RecordingStatus("off")
        if recorder.recording:
            return RecordingStatus("recording")
        if recorder.blocked is not None:
            return RecordingStatus("paused", recorder.blocked)
        if recorder.error is not None:
            return RecordingStatus("error", recorder.error)
        return RecordingStatus("idle")

    async def stop(self) -> None:
        """Close every open clip at what arrived and stop."""
        if self._subscription is not None:
            await self._subscription.close()
        await asyncio.gather(*(r.stop() for r in self.recorders.values()))
        self.recorders.clear()
        if self._posters:
            await asyncio.wait(self._posters, timeout=10)

    async def _handle(self, message: BusEvent) -> None:
        if isinstance(message, CameraEventReceived):
            recorder = self.recorders.get(message.camera_id)
            if recorder is not None:
                recorder.trigger(message.event.kind.value, message.event.active)
        elif isinstance(message, CameraStateChanged) and message.state is CameraState.ONLINE:
            self._camera_back(message.camera_id)  # its stream stops waiting to retry
            self.ensure(message.camera_id)

    async def _register(
        self, draft: ClipDraft, closed: ClosedClip | None, failed: WriteFailed | None
    ) -> None:
        if failed is not None:
            self.failures += 1
            _log.warning("recording %s: %s", draft.camera_id, failed.reason)
            if failed.disk_full:
                self._disk_full()
        if closed is None:
            return
        started = datetime.fromtimestamp(draft.started_wall, UTC)
        ended = started + timedelta(milliseconds=closed.duration_ms)
        try:
            event_ids = await self._events.ids_between(draft.camera_id, started, ended)
            await self._clips.add(
                ClipRecord(
                    id=draft.id, camera_id=draft.camera_id, path=draft.relative.as_posix(),
                    started_at=started, ended_at=ended, size_bytes=closed.size_bytes,
                    sha256=closed.sha256, duration_ms=closed.duration_ms, frames=closed.frames,
                    width=draft.picture.width, height=draft.picture.height,
                    audio_codec="aac" if closed.audio else None,
                    clock_offset_s=self._clock_offset(draft.camera_id), mode=draft.mode,
                    kinds=tuple(sorted(draft.kinds)),
                ),
                event_ids,
            )  # fmt: skip
        except StorageError as exc:
            # The file is safe; the next start registers it from the file itself.
            _log.warning("recording %s: clip not registered yet (%s)", draft.camera_id, exc)
            return
        self.registered += 1
        task = asyncio.create_task(self._poster(draft, closed.path))
        self._posters.add(task)
        task.add_done_callback(self._posters.discard)

    async def _poster(self, draft: ClipDraft, path: Path) -> None:
        try:
            await asyncio.to_thread(write_poster, path, draft.first_keyframe)
            await self._clips.set_poster(draft.id)
        except (PosterError, OSError, StorageError) as exc:
            _log.info("recording %s: no poster for a clip (%s)", draft.camera_id, exc)
