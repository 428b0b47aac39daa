"""User accounts (owner, residents, neighbours, agencies); passwords only as argon2 hashes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..db import Connection
from ._time import from_db, inserted_id, to_db

ROLES = ("owner", "resident", "neighbour", "agency")


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user row; `password_hash` is an argon2id encoded hash, never a password."""

    id: int
    username: str
    password_hash: str
    role: str
    created_at: datetime
    disabled: bool = False


def _record(row: sqlite3.Row) -> UserRecord:
    return UserRecord(
        id=row["id"],
        username=row["username"],
        password_hash=row["password_hash"],
        role=row["role"],
        created_at=from_db(row["created_at"]),
        disabled=bool(row["disabled"]),
    )


class UserRepository:
    """Reads and writes the `users` table (on the durable connection: accounts must not vanish)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, username: str, password_hash: str, role: str, created_at: datetime) -> int:
        """Create an account and return its id; raises `sqlite3.IntegrityError` on a taken name."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        outcome = await self._conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
            (username, password_hash, role, to_db(created_at)),
        )
        return inserted_id(outcome.lastrowid)

    async def by_username(self, username: str) -> UserRecord | None:
        """One account by name (case-insensitive)."""
        row = await self._conn.fetchone("SELECT * FROM users WHERE username = ?", (username,))
        return None if row is None else _record(row)

    async def list(self) -> list[UserRecord]:
        """Every account, by name."""
        return [
            _record(r) for r in await self._conn.fetchall("SELECT * FROM users ORDER BY username")
        ]

    async def set_password_hash(self, user_id: int, password_hash: str) -> bool:
        """Replace an account's password hash (after a change or a rehash)."""
        outcome = await self._conn.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
        )
        return outcome.rowcount > 0

    async def set_disabled(self, user_id: int, disabled: bool) -> bool:
        """Disable or re-enable an account."""
        outcome = await self._conn.execute(
            "UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id)
        )
        return outcome.rowcount > 0
