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


class RingEndReason(StrEnum):
    """Why a doorbell ring ended."""

    TIMEOUT = "timeout"
    """Nobody answered within the ring time after the last press."""
    ANSWERED_CALL_ENDED = "answered_call_ended"
    """The live call that answered it was hung up (or ended otherwise)."""
    CAMERA_REMOVED = "camera_removed"


@dataclass(frozen=True, slots=True)
class RingStarted(BusEvent):
    """A doorbell press started a ring (presses during a ring extend it and publish nothing)."""

    ring_id: str
    camera_id: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class RingAnswered(BusEvent):
    """A household member started a live call on the ringing camera (the first one counts)."""

    ring_id: str
    camera_id: str
    started_at: datetime
    answered_by: str
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class RingEnded(BusEvent):
    """A ring is over: unanswered in time, its answering call ended, or its camera removed."""

    ring_id: str
    camera_id: str
    started_at: datetime
    reason: RingEndReason
    ended_at: datetime
    answered_by: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ShareAccessed(BusEvent):
    """Someone watched or downloaded a share (the owner's pages say so as it happens)."""

    share_id: str
    title: str
    kind: str
    """`view` or `download`."""
    via: str
    """`link` (anyone holding it) or `account` (a neighbour signed in)."""
    client: str
    """Coarse: "Chrome on Android"; never an address."""
    at: datetime
