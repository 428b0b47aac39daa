"""One task per camera: connect through its driver, pump its events, retry, report state."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.devices.backoff import Backoff
from doorstep.gateway.devices.event_budget import EVENT_BURST, EVENTS_PER_S, EventBudget
from doorstep.gateway.events import CameraEventReceived, CameraState, CameraStateChanged
from doorstep.sdk import (
    AuthenticationFailed,
    Device,
    DeviceConfig,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    DriverError,
    DriverFactory,
    HasDiagnostics,
    HasEvents,
    HasSnapshot,
    HasStreams,
    HasTalk,
    ProtocolError,
    StreamSource,
    TalkSink,
    Unsupported,
    capabilities_of,
)

_log = logging.getLogger(__name__)

HEALTHY_AFTER_S = 60.0
"""A device online this long has its backoff reset; shorter stints keep backing off (flapping)."""
RECENTLY_ONLINE_S = 120.0
RECENT_RETRY_CAP_S = 4.0
"""A camera that was online moments ago is probably rebooting: retry it every few seconds for a
while, so its events resume within seconds of it answering (SECURITY.md: 15 s)."""
CLOSE_TIMEOUT_S = 3.0
STOP_TIMEOUT_S = 1.0
"""How long a cancelled supervision task gets to unwind (the driver's close() has its own)."""
STREAMS_TIMEOUT_S = 10.0
"""A driver's close() gets this long, so shutdown stays within its 5 s budget."""
NOTES_TIMEOUT_S = 2.0
MAX_NOTES = 8
MAX_NOTE_CHARS = 200
"""The camera's info carries the driver's diagnostics `notes` (short plain text), bounded."""
DISABLED_IN_CONFIG = "disabled in config"
DISABLED_BY_OWNER = "disabled by the owner"
"""The reasons of a camera turned off in the config file, or from the UI (its settings)."""


class DeviceSupervisor:
    """Keeps one camera connected and its events flowing, whatever the camera does."""

    def __init__(
        self,
        config: DeviceConfig,
        factory: DriverFactory | None,
        context: DriverContext,
        bus: EventBus,
        backoff: Backoff,
        *,
        enabled: bool = True,
        missing_driver: str | None = None,
        name: str | None = None,
        driver: str = "",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        events_per_s: float = EVENTS_PER_S,
        event_burst: int = EVENT_BURST,
        rtsp_allow_basic: bool = False,
        disabled_reason: str = DISABLED_IN_CONFIG,
    ) -> None:
        self.config = config
        self.camera_id = config.id
        self.rtsp_allow_basic = rtsp_allow_basic
        """Answer RTSP Basic challenges over plain rtsp:// (the camera's `rtsp_allow_basic`)."""
        self.name = name or config.id
        self.driver = driver
        self.state = CameraState.STOPPED
        self.reason: str | None = None
        self.info: DeviceInfo | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.streams: list[StreamSource] = []
        self.notes: list[str] = []
        """What the driver says the owner should know (its diagnostics' `notes`), plain text."""
        self._factory = factory
        # A driver that opens RTSP itself (talk) must honour the camera's Basic setting.
        self._context = replace(context, rtsp_allow_basic=rtsp_allow_basic)
        self._bus = bus
        self._backoff = backoff
        self._enabled = enabled
        self._disabled_reason = disabled_reason
        self._missing_driver = missing_driver
        self._sleep = sleep
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._device: Device | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._down_since: float | None = None
        self._last_online: float | None = None
        self._stopping = False
        self._log = logging.LoggerAdapter(_log, {"camera": config.id})
        self.budget = EventBudget(self._log, clock, events_per_s, event_burst)
        """The camera's event rate limit; `budget.dropped` counts what a flood cost it."""

    def start(self) -> None:
        """Start supervising (no-op if already running)."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._supervise(), name=f"camera:{self.camera_id}")

    async def stop(self) -> None:
        """Stop supervising and release the device (bounded: shutdown has a 5 s budget)."""
        if self._task is not None:
            task, self._task = self._task, None
            # Python 3.11's wait_for can swallow a cancellation that lands as its inner
            # awaitable finishes; the flag ends the loop even then.
            self._stopping = True
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            if not done:
                self._log.error("supervision did not stop within %.0f s; abandoned", STOP_TIMEOUT_S)
            elif not task.cancelled() and task.exception() is not None:
                self._log.debug("supervision ended with %r", task.exception())
        await self._close_device()
        self._set_state(CameraState.STOPPED)

    async def reconnect(self) -> None:
        """Drop the current attempt and connect again now, resetting the backoff."""
        await self.stop()
        self._backoff.reset()
        self.start()

    @property
    def talk(self) -> bool | None:
        """Whether the camera has a speaker to talk through (None: not known until tried).

        The driver's `HasTalk` says it can talk; the main stream's `backchannel` says whether
        this camera does (None when the driver cannot tell before trying, e.g. plain RTSP).
        """
        if "talk" not in self.capabilities:
            return False
        if not self.streams:
            return None
        return self.streams[0].backchannel

    async def open_talk(self) -> TalkSink:
        """Open the speaker through the driver's `HasTalk`.

        Raises `Unsupported` (no speaker) or `DeviceUnavailable`.
        """
        device = self._device
        if device is None or self.state is not CameraState.ONLINE:
            raise DeviceUnavailable("the camera is not online")
        if not isinstance(device, HasTalk):
            raise Unsupported("this camera has no speaker")
        return await device.open_talk()

    async def snapshot(self) -> bytes:
        """A JPEG from the connected device; DeviceUnavailable/Unsupported otherwise."""
        device = self._device
        if device is None or self.state is not CameraState.ONLINE:
            raise DeviceUnavailable("the camera is not connected")
        if not isinstance(device, HasSnapshot):
            raise Unsupported("the camera has no snapshots")
        try:
            return await device.snapshot()
        finally:  # a snapshot can teach the driver something (e.g. the URL wants Basic)
            await self._refresh_notes(device)

    async def _refresh_notes(self, device: Device) -> None:
        if not isinstance(device, HasDiagnostics):
            return
        try:
            report = await asyncio.wait_for(device.diagnostics(), NOTES_TIMEOUT_S)
        except Exception as exc:  # diagnostics are advisory; a failing driver keeps its notes
            self._log.debug("diagnostics failed: %s", type(exc).__name__)
            return
        notes = report.get("notes") if isinstance(report, Mapping) else None
        if not isinstance(notes, list):
            self.notes = []
            return
        secret = self.config.password.get_secret_value() if self.config.password else None
        cleaned = []
        for note in notes[:MAX_NOTES]:
            if not isinstance(note, str):
                continue
            text = " ".join(note.split())[:MAX_NOTE_CHARS]
            cleaned.append(text.replace(secret, "***") if secret else text)
        self.notes = cleaned

    async def diagnostics(self) -> Mapping[str, object] | None:
        """The driver's diagnostics (unredacted), None when not connected or it has none."""
        device = self._device
        if device is None or not isinstance(device, HasDiagnostics):
            return None
        return await device.diagnostics()

    @property
    def running(self) -> bool:
        """True while the supervising task is alive (it ends on auth failure or disable)."""
        return self._task is not None and not self._task.done()

    def _set_state(
        self, state: CameraState, reason: str | None = None, info: DeviceInfo | None = None
    ) -> None:
        if state == self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        self._bus.publish(CameraStateChanged(self.camera_id, state, reason, info))

    async def _supervise(self) -> None:
        if not self._enabled:
            self._set_state(CameraState.DISABLED, self._disabled_reason)
            return
        if self._factory is None:
            self._set_state(CameraState.DISABLED, self._missing_driver or "driver not available")
            self._log.error("camera disabled: %s", self.reason)
            return
        while not self._stopping:
            online_at: float | None = None
            try:
                self._set_state(CameraState.CONNECTING)
                self._device = self._factory.create(self.config, self._context)
                self.info = await self._device.connect()
                online_at = self._clock()
                self.capabilities = capabilities_of(self._device)
                self.streams = await self._list_streams(self._device)
                await self._refresh_notes(self._device)
                self._went_online(self.info)
                await self._pump_events(self._device)
            # A final state is published once the device is closed: whoever sees it finds
            # supervision over (a close can take a while: the driver unsubscribes).
            except AuthenticationFailed as exc:
                await self._close_device()
                self._set_state(CameraState.NEEDS_CREDENTIALS, str(exc) or "credentials refused")
                self._log.warning("needs credentials: %s", self.reason)
                return
            except Unsupported as exc:
                await self._close_device()
                self._set_state(CameraState.DISABLED, f"unsupported: {exc}")
                self._log.error("camera disabled: %s", self.reason)
                return
            except (DeviceUnavailable, ProtocolError, DriverError) as exc:
                self._went_down(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a driver bug must not end supervision of the camera
                self._went_down(f"driver error {type(exc).__name__}: {exc}", exc_info=True)
            await self._close_device()
            if online_at is not None:
                self._last_online = self._clock()
                if self._last_online - online_at >= HEALTHY_AFTER_S:
                    self._backoff.reset()
            delay = self._backoff.next()
            if (
                self._last_online is not None
                and self._clock() - self._last_online < RECENTLY_ONLINE_S
            ):
                delay = min(delay, RECENT_RETRY_CAP_S)
            self._log.debug("retrying in %.1f s", delay)
            await self._sleep(delay)

    async def _list_streams(self, device: Device) -> list[StreamSource]:
        if not isinstance(device, HasStreams):
            return []
        try:
            return list(await asyncio.wait_for(device.streams(), STREAMS_TIMEOUT_S))
        except (DriverError, TimeoutError) as exc:
            self._log.warning("cannot list streams: %s", exc)
            return []

    async def _pump_events(self, device: Device) -> None:
        if not isinstance(device, HasEvents):
            await asyncio.Event().wait()  # nothing to pump: stay online until stopped
            return
        budget = self.budget
        async for event in device.events():
            # Never a log line per event: the budget logs once per flood (issue 11, hole 9).
            if budget.admit(event):
                self._bus.publish(CameraEventReceived(self.camera_id, event, datetime.now(UTC)))
        raise DeviceUnavailable("event stream ended")

    def _went_online(self, info: DeviceInfo) -> None:
        self._set_state(CameraState.ONLINE, None, info)
        if self._down_since is not None:
            self._log.info("back online after %.0f s", self._clock() - self._down_since)
            self._down_since = None
        else:
            self._log.info("online: %s %s", info.manufacturer, info.model)

    def _went_down(self, reason: str, exc_info: bool = False) -> None:
        # Logged once per outage at WARNING; repeats go to DEBUG so an offline camera cannot
        # fill the log.
        if self._down_since is None:
            self._down_since = self._clock()
            self._log.warning("unavailable: %s", reason, exc_info=exc_info)
        else:
            self._log.debug("still unavailable: %s", reason)
        self._set_state(CameraState.UNAVAILABLE, reason)

    async def _close_device(self) -> None:
        """Close the current device, and wait for every close still under way.

        The close runs in a task of its own: a stop() that cancels supervision while a driver
        is closing must not cut the close short (that strands the driver's connections); the
        close carries on, and stop() waits for it here.
        """
        device, self._device = self._device, None
        if device is not None:
            closing = asyncio.create_task(self._close(device), name=f"close:{self.camera_id}")
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        if self._closing:
            await asyncio.shield(asyncio.wait(set(self._closing)))

    async def _close(self, device: Device) -> None:
        try:
            await asyncio.wait_for(device.close(), CLOSE_TIMEOUT_S)
        except Exception as exc:  # close() must not raise, but a broken driver might
            self._log.debug("close failed: %s: %s", type(exc).__name__, exc)
