"""The notification a phone shows: small JSON the service worker turns into a system
notification, and the push headers (TTL, Urgency, Topic) that go with it."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from doorstep.gateway.notify.prefs import PushKind

MAX_PLAINTEXT = 3993
"""RFC 8291 §4: a 4096-byte aes128gcm body holds 4096 - 86 (header) - 1 - 16 (tag) bytes."""
MAX_NAME = 120
MAX_TOPIC = 32
"""RFC 8030 §5.4: at most 32 characters of the base64url alphabet."""

_BODIES = {
    PushKind.RING: "Someone rang the doorbell",
    PushKind.MOTION: "Motion at {name}",
    PushKind.PERSON: "Person seen at {name}",
}
_TTL_S = {PushKind.RING: 120, PushKind.MOTION: 600, PushKind.PERSON: 600}
"""A ring nobody sees within two minutes is no longer news; motion keeps a little longer."""


class PayloadTooLarge(ValueError):
    """A notification would not fit one push message (a bug: payloads are built small)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one or many devices: the JSON body and its push headers."""

    body: bytes
    ttl_s: int
    urgency: str
    topic: str

    def __post_init__(self) -> None:
        if len(self.body) > MAX_PLAINTEXT:
            raise PayloadTooLarge(f"{len(self.body)} bytes > {MAX_PLAINTEXT}")


def topic_for(kind: str, camera_id: str) -> str:
    """A Topic header: a newer message with it replaces an undelivered older one."""
    topic = f"{kind}-{camera_id}"
    if len(topic) <= MAX_TOPIC:
        return topic
    digest = base64.urlsafe_b64encode(hashlib.sha256(camera_id.encode()).digest()).decode()
    return f"{kind}-{digest}"[:MAX_TOPIC]


def _json(data: dict[str, object]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def camera_notification(
    kind: PushKind, camera_id: str, camera_name: str, at: datetime
) -> Notification:
    """A ring, motion or person notification for one camera."""
    name = (camera_name.strip() or camera_id)[:MAX_NAME]
    path = quote(camera_id, safe="")
    data: dict[str, object] = {
        "title": name,
        "body": _BODIES[kind].format(name=name),
        "camera_id": camera_id,
        "camera_name": name,
        "kind": kind.value,
        "time": at.isoformat(),
        "url": f"/#/live/{path}" if kind is PushKind.RING else f"/#/camera/{path}",
        "image": f"/api/cameras/{path}/snapshot",
        "tag": f"{kind.value}-{camera_id}",
    }
    return Notification(
        _json(data),
        _TTL_S[kind],
        "high" if kind is PushKind.RING else "normal",
        topic_for(kind.value, camera_id),
    )


def trial_notification(at: datetime) -> Notification:
    """What Settings' "Send a test" shows on the device."""
    data: dict[str, object] = {
        "title": "Doorstep",
        "body": "Test notification: this device will ring when someone is at the door",
        "kind": "test",
        "time": at.isoformat(),
        "url": "/#/notifications",
        "tag": "test",
    }
    return Notification(_json(data), 60, "normal", "test")
