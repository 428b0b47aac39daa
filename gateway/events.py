"""Typed events carried by the gateway's event bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.sdk import DeviceEvent, DeviceInfo


@dataclass(frozen=True, slots=True)
class BusEvent:
    """Base of everything published on the bus."""


class CameraState(StrEnum):
    """Connection state of one configured camera, as the supervisor sees it."""

    CONNECTING = "connecting"
    ONLINE = "online"
    UNAVAILABLE = "unavailable"
    NEEDS_CREDENTIALS = "needs_credentials"
    DISABLED = "disabled"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class CameraStateChanged(BusEvent):
    """A camera moved to a new connection state; `reason` says why when it is not online."""

    camera_id: str
    state: CameraState
    reason: str | None = None
    info: DeviceInfo | None = None


@dataclass(frozen=True, slots=True)
class CameraEventReceived(BusEvent):
    """A camera reported a normalised event (motion, doorbell press, …)."""

    camera_id: str
    event: DeviceEvent
    received_at: datetime
    """Gateway clock (UTC) when the event arrived; authoritative, unlike the camera's clock."""
