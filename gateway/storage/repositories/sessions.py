"""Server-side sign-in sessions, stored by the hash of their token (the token itself never is)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, to_db


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session: whose, since when, last seen when and from where."""

    token_hash: str
    user_id: int
    created_at: datetime
    last_seen: datetime
    ip: str
    user_agent: str
    confirmed_at: datetime | None = None
    """When the session last proved the password (sign-in or re-entry)."""


@dataclass(frozen=True, slots=True)
class SessionAccount:
    """What a request needs of a session's account."""

    username: str
    role: str
    disabled: bool
    enrolled: bool
    """Has a second factor."""
    must_change_password: bool = False
    """The owner reset the password: the user must choose a new one first."""


def _record(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        created_at=from_db(row["created_at"]),
        last_seen=from_db(row["last_seen"]),
        ip=row["ip"],
        user_agent=row["user_agent"],
        confirmed_at=from_db(row["confirmed_at"]) if row["confirmed_at"] else None,
    )


class SessionRepository(Repository):
    """Reads and writes the `sessions` table (durable: a revoked session must stay revoked)."""

    durable = True

    async def add(self, session: SessionRecord) -> None:
        """Store a new session."""
        await self._conn.execute(
            """INSERT INTO sessions
                 (token_hash, user_id, created_at, last_seen, ip, user_agent, confirmed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                session.token_hash, session.user_id, to_db(session.created_at),
                to_db(session.last_seen), session.ip[:64], session.user_agent[:256],
                to_db(session.confirmed_at) if session.confirmed_at else None,
            ),
        )  # fmt: skip

    async def confirm(self, token_hash: str, at: datetime) -> None:
        """Record that the session proved the password again."""
        await self._conn.execute(
            "UPDATE sessions SET confirmed_at = ? WHERE token_hash = ?", (to_db(at), token_hash)
        )

    async def get(self, token_hash: str) -> SessionRecord | None:
        """A session by token hash."""
        row = await self._conn.fetchone(
            "SELECT * FROM sessions WHERE token_hash = ?", (token_hash,)
        )
        return None if row is None else _record(row)

    async def get_with_account(
        self, token_hash: str
    ) -> tuple[SessionRecord, SessionAccount] | None:
        """A session and its account's row in one query (this runs on every request)."""
        row = await self._conn.fetchone(
            """SELECT s.*, u.username, u.role, u.disabled, u.totp_secret IS NOT NULL AS enrolled,
                      u.must_change_password
               FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?""",
            (token_hash,),
        )
        if row is None:
            return None
        account = SessionAccount(
            row["username"], row["role"], bool(row["disabled"]), bool(row["enrolled"]),
            bool(row["must_change_password"]),
        )  # fmt: skip
        return _record(row), account

    async def touch(self, token_hash: str, seen: datetime) -> None:
        """Record activity on a session."""
        await self._conn.execute(
            "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (to_db(seen), token_hash)
        )

    async def delete(self, token_hash: str) -> bool:
        """End one session."""
        outcome = await self._conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?", (token_hash,)
        )
        return outcome.rowcount > 0

    async def delete_for_user(self, user_id: int, keep: str | None = None) -> int:
        """End every session of a user (but `keep`); returns how many."""
        outcome = await self._conn.execute(
            "DELETE FROM sessions WHERE user_id = ? AND token_hash != ?", (user_id, keep or "")
        )
        return outcome.rowcount

    async def delete_idle(self, idle_before: datetime) -> int:
        """Forget sessions idle since before a time."""
        outcome = await self._conn.execute(
            "DELETE FROM sessions WHERE last_seen < ?", (to_db(idle_before),)
        )
        return outcome.rowcount
