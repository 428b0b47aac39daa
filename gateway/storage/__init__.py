"""Persistence: SQLite (WAL) behind repositories; knows nothing of who calls it."""

from doorstep.gateway.storage.db import Database, DatabaseCorrupt, DatabaseTooNew, StorageError
from doorstep.gateway.storage.repositories import (
    CameraRecord,
    CameraRepository,
    ClipRecord,
    ClipRepository,
    EventRecord,
    EventRepository,
    SessionRecord,
    SessionRepository,
    UserRecord,
    UserRepository,
)

__all__ = [
    "CameraRecord",
    "CameraRepository",
    "ClipRecord",
    "ClipRepository",
    "Database",
    "DatabaseCorrupt",
    "DatabaseTooNew",
    "EventRecord",
    "EventRepository",
    "SessionRecord",
    "SessionRepository",
    "StorageError",
    "UserRecord",
    "UserRepository",
]
