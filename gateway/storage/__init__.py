"""Persistence: SQLite (WAL) behind repositories; knows nothing of who calls it.

Callers hold a `Storage` and catch the errors defined here (`Conflict`, `StorageError`); the
database driver and its exceptions stay inside this package.
"""

from doorstep.gateway.storage.db import DB_FILENAME, Database
from doorstep.gateway.storage.errors import Conflict, DatabaseCorrupt, DatabaseTooNew, StorageError
from doorstep.gateway.storage.repositories import (
    AuditRepository,
    AuditRow,
    CameraRecord,
    CameraRepository,
    ClipQuery,
    ClipRecord,
    ClipRepository,
    EventRecord,
    EventRepository,
    HoldRecord,
    HoldRepository,
    SessionAccount,
    SessionRecord,
    SessionRepository,
    ShareAccessRecord,
    ShareItemRecord,
    ShareRecord,
    ShareRepository,
    UserRecord,
    UserRepository,
)
from doorstep.gateway.storage.store import Storage

__all__ = [
    "DB_FILENAME",
    "AuditRepository",
    "AuditRow",
    "CameraRecord",
    "CameraRepository",
    "ClipQuery",
    "ClipRecord",
    "ClipRepository",
    "Conflict",
    "Database",
    "DatabaseCorrupt",
    "DatabaseTooNew",
    "EventRecord",
    "EventRepository",
    "HoldRecord",
    "HoldRepository",
    "SessionAccount",
    "SessionRecord",
    "SessionRepository",
    "ShareAccessRecord",
    "ShareItemRecord",
    "ShareRecord",
    "ShareRepository",
    "Storage",
    "StorageError",
    "UserRecord",
    "UserRepository",
]
