"""GET /api/health: the state of each gateway component."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway import __version__
from doorstep.gateway.events import CameraState
from doorstep.gateway.storage import StorageError
from doorstep.gateway.web.keys import BUS, DEVICES, DRIVERS, MQTT, SETTINGS, STORAGE

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
    if storage.state != "ok" or registry.failures or _TROUBLE & set(states.values()):
        report.status = "degraded"
    if report.mqtt is not None and not report.mqtt.connected:
        report.status = "degraded"  # a configured link to the home automation is down
    return web.json_response(report.model_dump(mode="json"))
