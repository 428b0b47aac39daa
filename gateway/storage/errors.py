"""Storage-level failures: what callers above storage catch, whatever database is behind it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


class StorageError(Exception):
    """Base class of storage failures (the database cannot be read or written)."""


class DatabaseCorrupt(StorageError):
    """The database file is damaged or not a database; it is left untouched."""


class DatabaseTooNew(StorageError):
    """The database was migrated by a newer Doorstep than this one."""


class Conflict(StorageError):
    """A write broke a constraint: a name already taken, a row still referred to, a missing
    parent row. The database is unchanged."""


@contextmanager
def translated() -> Iterator[None]:
    """Turn the driver's exceptions raised inside the block into storage errors."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise Conflict(str(exc)) from exc
    except sqlite3.Error as exc:
        raise StorageError(str(exc)) from exc
