"""One repository per aggregate; each takes the connection whose durability it needs."""

from .cameras import CameraRecord, CameraRepository
from .clips import ClipRecord, ClipRepository
from .events import EventRecord, EventRepository
from .sessions import SessionRecord, SessionRepository
from .users import UserRecord, UserRepository

__all__ = [
    "CameraRecord",
    "CameraRepository",
    "ClipRecord",
    "ClipRepository",
    "EventRecord",
    "EventRepository",
    "SessionRecord",
    "SessionRepository",
    "UserRecord",
    "UserRepository",
]
