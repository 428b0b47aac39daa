"""One repository per aggregate; each takes the connection whose durability it needs."""

from doorstep.gateway.storage.repositories.audit import AuditRepository, AuditRow
from doorstep.gateway.storage.repositories.cameras import CameraRecord, CameraRepository
from doorstep.gateway.storage.repositories.clips import ClipRecord, ClipRepository
from doorstep.gateway.storage.repositories.events import EventRecord, EventRepository
from doorstep.gateway.storage.repositories.sessions import (
    SessionAccount,
    SessionRecord,
    SessionRepository,
)
from doorstep.gateway.storage.repositories.users import UserRecord, UserRepository

__all__ = [
    "AuditRepository",
    "AuditRow",
    "CameraRecord",
    "CameraRepository",
    "ClipRecord",
    "ClipRepository",
    "EventRecord",
    "EventRepository",
    "SessionAccount",
    "SessionRecord",
    "SessionRepository",
    "UserRecord",
    "UserRepository",
]
