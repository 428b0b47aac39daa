"""The camera façade: the one thing the web calls for cameras.

Adopt, change settings, remove, views for a caller (with their state in plain words), the
stream to watch live, snapshots, talk, discovery. It
hides the supervisors, their driver objects and the cameras' credentials; what it hands out is
typed (`CameraView`, `StreamTarget`, a `TalkSink`) and its refusals are its own exceptions,
which the web maps to HTTP statuses. Who may see what is the caller's business (the auth
layer sits beside this one): every call that reveals a camera takes a `may_see` predicate.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any

from doorstep.gateway.cameras.adoption import AdoptRequest, CameraService
from doorstep.gateway.cameras.errors import (
    AdoptionError,
    CameraConflict,
    CameraNotFound,
    CameraRefused,
    CameraUnavailable,
    SettingsRefused,
)
from doorstep.gateway.cameras.settings import CameraChange
from doorstep.gateway.cameras.status_text import describe
from doorstep.gateway.cameras.views import (
    CameraSettingsView,
    CameraView,
    DiscoveredView,
    RecordingView,
    StreamView,
)
from doorstep.gateway.config.models import DiscoveryConfig
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.supervisor import DeviceSupervisor
from doorstep.gateway.discovery import discover
from doorstep.gateway.events import CameraState
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.gateway.recording.service import Recording
from doorstep.sdk import DriverError, DriverFactory, TalkSink

SNAPSHOT_CACHE_S = 2.0
"""A grid of viewers must not hammer a doorbell's snapshot endpoint."""
MAX_CACHED_SNAPSHOTS = 256

MaySee = Callable[[str], bool]
"""Whether the caller may see the camera with this id."""


def _everyone(camera_id: str) -> bool:
    return True


class Cameras:
    """Every supervised camera, as the web may use it."""

    def __init__(
        self,
        devices: DeviceManager,
        adoption: CameraService,
        hub: StreamHub | None = None,
        *,
        declared: Collection[str] = (),
        drivers: Callable[[], Iterable[DriverFactory]] = tuple,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._devices = devices
        self._adoption = adoption
        self._settings = adoption.settings
        self._hub = hub
        self._declared = frozenset(declared)
        self._drivers = drivers
        self._clock = clock
        self._snapshots: dict[str, tuple[float, bytes]] = {}
        self.recording: Recording | None = None
        """The recorders, once they are up (a camera's view then says what its recorder does)."""
        self.recording_defaults: Callable[[], dict[str, Any]] = dict
        """The gateway's recording and retention defaults a camera's own settings follow."""

    def _supervisor(self, camera_id: str, may_see: MaySee = _everyone) -> DeviceSupervisor:
        supervisor = self._devices.supervisors.get(camera_id)
        if supervisor is None or not may_see(camera_id):
            raise CameraNotFound(camera_id)
        return supervisor

    def _view(self, supervisor: DeviceSupervisor, editor: bool = False) -> CameraView:
        info, config = supervisor.info, supervisor.config
        stream = self._hub.get(f"{supervisor.camera_id}/main") if self._hub is not None else None
        stream_error = stream.last_error if stream is not None else None
        plain = describe(
            supervisor.state.value, supervisor.reason, config.host, config.port, stream_error
        )
        talk = supervisor.talk
        # A driver that can talk on a camera known to have no speaker: not a capability of it.
        capabilities = sorted(
            c for c in supervisor.capabilities if talk is not False or c != "talk"
        )
        return CameraView(
            id=supervisor.camera_id,
            name=supervisor.name,
            driver=supervisor.driver,
            host=config.host,
            port=config.port,
            state=supervisor.state.value,
            reason=supervisor.reason,
            manufacturer=info.manufacturer if info else None,
            model=info.model if info else None,
            firmware=info.firmware if info else None,
            stable_id=info.stable_id if info else None,
            clock_offset_s=info.clock_offset_s if info else None,
            capabilities=capabilities,
            streams=[
                StreamView(
                    name=s.name, codec=s.video_codec, width=s.width, height=s.height, fps=s.fps
                )
                for s in supervisor.streams
            ],
            talk=talk,
            stream_error=stream_error,
            notes=list(supervisor.notes),
            status_text=plain.text,
            hint=plain.hint,
            live_stream=self._settings.live_stream(supervisor.camera_id),
            source="config" if supervisor.camera_id in self._declared else "adopted",
            editable=self._editable(supervisor) if editor else [],
            recording=self._recording(supervisor.camera_id),
        )

    def _recording(self, camera_id: str) -> RecordingView | None:
        if self.recording is None:
            return None
        status = self.recording.status(camera_id)
        return RecordingView(state=status.state, reason=status.reason)

    def _editable(self, supervisor: DeviceSupervisor) -> list[str]:
        camera = self._devices.cameras.get(supervisor.camera_id)
        if camera is None:
            return []
        return self._settings.editable(camera, [s.name for s in supervisor.streams])

    def views(self, may_see: MaySee, *, editor: bool = False) -> list[CameraView]:
        """The cameras the caller may see, in the order they were configured or adopted.

        `editor`: the caller may change camera settings (the owner): `editable` is filled in.
        """
        return [
            self._view(s, editor) for cid, s in self._devices.supervisors.items() if may_see(cid)
        ]

    def view(self, camera_id: str, may_see: MaySee, *, editor: bool = False) -> CameraView:
        """One camera the caller may see; `CameraNotFound` otherwise."""
        return self._view(self._supervisor(camera_id, may_see), editor)

    def settings(self, camera_id: str) -> CameraSettingsView:
        """A camera's settings for its settings form (owner only; no password)."""
        supervisor = self._supervisor(camera_id)
        camera = self._devices.cameras.get(camera_id)
        if camera is None:
            raise CameraNotFound(camera_id)
        view = self._settings.view(camera, [s.name for s in supervisor.streams])
        view.recording_defaults = self.recording_defaults()
        return view

    async def change(self, camera_id: str, change: CameraChange) -> tuple[CameraView, list[str]]:
        """Change a camera's settings; restarts that camera alone when the driver must see it.

        The view afterwards, and the fields that changed. `CameraNotFound`, `SettingsRefused`
        (the reason in plain words), or `AdoptionError` when the camera refuses new credentials.
        """
        changed = await self._settings.change(camera_id, change, self._devices)
        if changed:
            self._snapshots.pop(camera_id, None)
        if self.recording is not None and any(f.startswith("recording.") for f in changed):
            self.recording.ensure(camera_id)  # its recorder follows the new policy now
        return self.view(camera_id, _everyone, editor=True), changed

    def state(self, camera_id: str) -> CameraState:
        """The camera's supervision state."""
        return self._supervisor(camera_id).state

    def talk(self, camera_id: str) -> bool | None:
        """Whether the camera has a speaker (None: unknown until tried)."""
        return self._supervisor(camera_id).talk

    def live_stream_name(self, camera_id: str) -> str:
        """The stream a live call opens now: the owner's choice ('main' or 'sub') if the camera
        offers it, else 'main'."""
        wanted = self._settings.live_stream(camera_id)
        supervisor = self._devices.supervisors.get(camera_id)
        offered = [s.name for s in supervisor.streams] if supervisor is not None else []
        return wanted if wanted in offered else "main"

    def stream_target(self, camera_id: str, stream: str = "main") -> Callable[[], StreamTarget]:
        """Where to open one of the camera's streams ('main' by default: recording always
        records it), read afresh on every (re)connect, so new credentials apply.

        `CameraNotFound`, or `CameraUnavailable` when the camera offers no stream now.
        """
        if not self._supervisor(camera_id).streams:
            raise CameraUnavailable("the camera offers no stream now")
        return functools.partial(self._named_stream, camera_id, stream)

    def _named_stream(self, camera_id: str, stream: str) -> StreamTarget:
        supervisor = self._devices.supervisors.get(camera_id)
        if supervisor is None or not supervisor.streams:
            raise CameraUnavailable("the camera offers no stream now")
        chosen = next((s for s in supervisor.streams if s.name == stream), supervisor.streams[0])
        password = chosen.password.get_secret_value() if chosen.password else None
        return StreamTarget(chosen.url, chosen.username, password, supervisor.rtsp_allow_basic)

    def talk_opener(self, camera_id: str) -> Callable[[], Awaitable[TalkSink]]:
        """What opens the camera's speaker when pressed: raises `Unsupported` (no speaker) or
        `DeviceUnavailable`; `CameraNotFound` at once for an unknown camera."""
        self._supervisor(camera_id)
        return functools.partial(self._open_talk, camera_id)

    async def _open_talk(self, camera_id: str) -> TalkSink:
        return await self._supervisor(camera_id).open_talk()

    async def snapshot(self, camera_id: str, may_see: MaySee) -> bytes:
        """A current JPEG (cached briefly); `CameraNotFound` or `CameraUnavailable`."""
        supervisor = self._supervisor(camera_id, may_see)
        now = self._clock()
        cached = self._snapshots.get(camera_id)
        if cached is not None and now - cached[0] <= SNAPSHOT_CACHE_S:
            return cached[1]
        try:
            image = await supervisor.snapshot()
        except DriverError as exc:
            raise CameraUnavailable(str(exc)) from None
        if len(self._snapshots) >= MAX_CACHED_SNAPSHOTS:
            self._snapshots.clear()
        self._snapshots[camera_id] = (now, image)
        return image

    async def adopt(self, request: AdoptRequest) -> CameraView:
        """Check the credentials against the camera, store them sealed, start supervising.

        `CameraConflict` when the address or camera is adopted already, `AdoptionError` when
        the camera cannot be adopted (the message says why).
        """
        record = await self._adoption.adopt(request, self._devices)
        return self._view(self._supervisor(record.id))

    async def remove(self, camera_id: str) -> bool:
        """Stop and forget an adopted camera; True if its record was kept (it has clips).

        `CameraNotFound`, or `CameraConflict` for a camera declared in the config file.
        """
        self._supervisor(camera_id)
        if camera_id in self._declared:
            raise CameraConflict("declared_in_config", "this camera is declared in the config file")
        async with self._settings.lock(camera_id):  # not while its settings change
            self._supervisor(camera_id)
            await self._devices.remove(camera_id)
            self._snapshots.pop(camera_id, None)
            return await self._adoption.forget(camera_id)

    async def discover(self, settings: DiscoveryConfig) -> list[DiscoveredView]:
        """Probe as configured, through every driver that can discover; marks what is adopted."""
        found = await discover(
            settings.targets, settings.interfaces, settings.listen_s, settings.mdns,
            drivers=self._drivers(),
        )  # fmt: skip
        known = {(s.config.host, s.config.port) for s in self._devices.supervisors.values()}
        return [
            DiscoveredView(
                driver=d.driver,
                host=d.host,
                port=d.port,
                endpoint=d.endpoint,
                name=d.name,
                hardware=d.hardware,
                found_by=d.found_by,
                adopted=(d.host, d.port) in known,
            )
            for d in found
        ]


__all__ = [
    "AdoptRequest",
    "AdoptionError",
    "CameraChange",
    "CameraConflict",
    "CameraNotFound",
    "CameraRefused",
    "CameraSettingsView",
    "CameraUnavailable",
    "CameraView",
    "Cameras",
    "DiscoveredView",
    "SettingsRefused",
]
