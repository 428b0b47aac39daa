"""GET /api/health: the state of each gateway component."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway import __version__
from doorstep.gateway.events import CameraState
from doorstep.gateway.recording.retention import DISK_FULL
from doorstep.gateway.storage import StorageError
from doorstep.gateway.web.keys import (
    BUS,
    CLIP_RETENTION,
    DEVICES,
    DRIVERS,
    MQTT,
    RECORDING,
    SETTINGS,
    STORAGE,
)
from doorstep.gateway.web.responses import model_response

_TROUBLE = frozenset({CameraState.UNAVAILABLE, CameraState.NEEDS_CREDENTIALS})


class StorageHealth(BaseModel):
    """Database reachability and schema version."""

    state: Literal["ok", "down"]
    schema_version: int | None = None


class SubscriberHealth(BaseModel):
    """One bus subscriber's counters."""

    name: str
    queued: int
    delivered: int
    dropped: int
    errors: int


class BusHealth(BaseModel):
    """Event bus counters; `dropped` > 0 means a subscriber could not keep up."""

    published: int
    dropped: int
    subscribers: list[SubscriberHealth]


class DriverHealth(BaseModel):
    """Loaded drivers and the ones that failed to load, with the reason."""

    loaded: list[str]
    failed: dict[str, str]


class CameraHealth(BaseModel):
    """How many cameras are in each connection state."""

    total: int
    by_state: dict[str, int] = Field(description="Camera count per state (online, unavailable, …).")


class MqttHealth(BaseModel):
    """The MQTT link, when one is configured (no broker address: this report is public)."""

    connected: bool
    dropped_events: int = Field(description="Rings not sent while the broker was unreachable.")


class RecordingHealth(BaseModel):
    """Recording: `paused` when the disk is full of held clips, `error` when the clip
    directory cannot be written."""

    state: Literal["ok", "paused", "error"]
    reason: str | None = None
    recording: int = Field(description="Cameras recording a clip now.")
    free_mib: int | None = Field(None, description="Free space where clips are written.")


class HealthReport(BaseModel):
    """Overall health: `degraded` when storage, a driver or a camera needs attention."""

    status: Literal["ok", "degraded"]
    version: str
    storage: StorageHealth
    bus: BusHealth
    drivers: DriverHealth
    cameras: CameraHealth
    restart_pending: bool = Field(
        False, description="Settings changed from the UI take effect when Doorstep restarts."
    )
    mqtt: MqttHealth | None = Field(None, description="None: no MQTT broker is configured.")
    recording: RecordingHealth | None = Field(None, description="None: not started yet.")


def _recording(app: web.Application) -> RecordingHealth:
    retention, recording = app[CLIP_RETENTION], app[RECORDING]
    statuses = [recording.status(c) for c in recording.recorders]
    failing = next((s.reason for s in statuses if s.state == "error"), None)
    state: Literal["ok", "paused", "error"] = "ok"
    reason = None
    if retention.error is not None or failing is not None:
        state, reason = "error", retention.error or failing
    elif retention.paused:
        state, reason = "paused", DISK_FULL
    free = None if retention.free is None else retention.free >> 20
    busy = sum(s.state == "recording" for s in statuses)
    return RecordingHealth(state=state, reason=reason, recording=busy, free_mib=free)


async def health_handler(request: web.Request) -> web.Response:
    """Report component health."""
    app = request.app
    try:
        storage = StorageHealth(state="ok", schema_version=await app[STORAGE].schema_version())
    except StorageError:
        storage = StorageHealth(state="down")
    bus = app[BUS]
    stats = bus.stats()
    registry = app[DRIVERS]
    states = app[DEVICES].states()
    report = HealthReport(
        status="ok",
        version=__version__,
        storage=storage,
        bus=BusHealth(
            published=bus.published,
            dropped=sum(s.dropped for s in stats),
            subscribers=[
                SubscriberHealth(
                    name=s.name,
                    queued=s.queued,
                    delivered=s.delivered,
                    dropped=s.dropped,
                    errors=s.errors,
                )
                for s in stats
            ],
        ),
        drivers=DriverHealth(loaded=sorted(registry.drivers), failed=dict(registry.failures)),
        cameras=CameraHealth(
            total=len(states), by_state=dict(Counter(s.value for s in states.values()))
        ),
        restart_pending=SETTINGS in app and bool(app[SETTINGS].restart_pending()),
    )
    if MQTT in app:
        mqtt = app[MQTT].status()
        report.mqtt = MqttHealth(connected=mqtt.connected, dropped_events=mqtt.dropped_events)
    if CLIP_RETENTION in app and RECORDING in app:
        report.recording = _recording(app)
        if report.recording.state != "ok":
            report.status = "degraded"
    if storage.state != "ok" or registry.failures or _TROUBLE & set(states.values()):
        report.status = "degraded"
    if report.mqtt is not None and not report.mqtt.connected:
        report.status = "degraded"  # a configured link to the home automation is down
    return model_response(report)
