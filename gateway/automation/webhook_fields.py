"""The documented fields an outgoing webhook's body template can use, taken from a camera event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from doorstep.gateway.events import CameraEventReceived
from doorstep.sdk import EventKind

FieldValue = str | bool | None
"""A field's value: text, except `active` (true, false or null)."""

MAX_NAME = 256
"""Camera names are cut to this many characters in a body (the template's size stays bounded)."""


@dataclass(frozen=True, slots=True)
class FieldDoc:
    """One template field as the owner reads it in the settings page."""

    name: str
    description: str
    example: str


FIELDS: tuple[FieldDoc, ...] = (
    FieldDoc("event_id", "A unique id of the camera event (the same for every rule it triggers)",
             "5f0c6a1e9d3b4c2a8e7f6d5c4b3a2918"),
    FieldDoc("kind", "The event kind: doorbell, motion, person, vehicle, …", "doorbell"),
    FieldDoc("active", "true when it starts, false when it ends, null for a one-off; a JSON "
             "true/false/null when the whole value is \"${active}\", else the word", "true"),
    FieldDoc("state", "started, ended or happened (a one-off)", "started"),
    FieldDoc("text", "What happened, in words", "Someone rang the doorbell at Front door"),
    FieldDoc("camera_id", "The camera's id", "front"),
    FieldDoc("camera_name", "The camera's name", "Front door"),
    FieldDoc("occurred_at", "When the camera says it happened (ISO 8601, UTC)",
             "2026-12-01T15:39:16.120Z"),
    FieldDoc("received_at", "When the gateway received it (ISO 8601, UTC; the gateway's clock)",
             "2026-12-01T15:39:16.134Z"),
    FieldDoc("gateway", "This gateway's name and version", "Doorstep 0.1.0"),
)  # fmt: skip
"""Every field, in the order the documentation lists them."""
FIELD_NAMES = frozenset(f.name for f in FIELDS)

_LABELS = {
    EventKind.MOTION: "Motion",
    EventKind.PERSON: "A person",
    EventKind.VEHICLE: "A vehicle",
    EventKind.ANIMAL: "An animal",
    EventKind.PACKAGE: "A package",
    EventKind.LINE_CROSSING: "A line crossing",
    EventKind.INTRUSION: "An intrusion",
    EventKind.LOITERING: "Loitering",
    EventKind.TAMPER: "Tampering",
    EventKind.SCENE_CHANGE: "A scene change",
    EventKind.AUDIO: "Sound",
    EventKind.DIGITAL_INPUT: "An input",
    EventKind.RELAY: "A relay",
    EventKind.DAY_NIGHT: "A day/night switch",
    EventKind.STORAGE: "A storage alarm",
    EventKind.PTZ: "A PTZ move",
    EventKind.OTHER: "An event",
}


def event_text(kind: EventKind, active: bool | None, camera_name: str) -> str:
    """The event in words: "Someone rang the doorbell at Front door", "Motion at Garden ended"."""
    if kind is EventKind.DOORBELL:
        if active is False:
            return f"The doorbell at {camera_name} stopped ringing"
        return f"Someone rang the doorbell at {camera_name}"
    label = _LABELS.get(kind, "An event")
    return f"{label} at {camera_name}{' ended' if active is False else ''}"


def iso_utc(moment: datetime) -> str:
    """`moment` as ISO 8601 in UTC with milliseconds and a Z: 2026-12-01T15:39:16.120Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_fields(
    message: CameraEventReceived, camera_name: str, event_id: str, gateway: str
) -> Mapping[str, FieldValue]:
    """The template fields of one camera event."""
    event = message.event
    name = camera_name[:MAX_NAME]
    state = "happened" if event.active is None else "started" if event.active else "ended"
    return {
        "event_id": event_id,
        "kind": event.kind.value,
        "active": event.active,
        "state": state,
        "text": event_text(event.kind, event.active, name),
        "camera_id": message.camera_id,
        "camera_name": name,
        "occurred_at": iso_utc(event.time),
        "received_at": iso_utc(message.received_at),
        "gateway": gateway,
    }


def sample_fields(gateway: str, camera_id: str = "test", camera_name: str = "Test camera") -> (
    Mapping[str, FieldValue]
):  # fmt: skip
    """Fields of a made-up doorbell press, for a test delivery."""
    now = iso_utc(datetime.now(UTC))
    return {
        "event_id": "test",
        "kind": EventKind.DOORBELL.value,
        "active": True,
        "state": "started",
        "text": f"Test from {gateway}: someone rang the doorbell at {camera_name}",
        "camera_id": camera_id,
        "camera_name": camera_name[:MAX_NAME],
        "occurred_at": now,
        "received_at": now,
        "gateway": gateway,
    }
