"""Agencies the owner knows: how each was verified, its pinned key, its account on this box."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.storage.errors import Conflict
from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, inserted_id, to_db


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    """An agency row. `public_key` is its Ed25519 key (base64), pinned when it was added."""

    id: int
    name: str
    verification: str
    verification_note: str
    public_key: str | None
    contact: str
    user_id: int | None
    created_at: datetime
    created_by: str


def _record(row: sqlite3.Row) -> AgencyRecord:
    return AgencyRecord(
        row["id"], row["name"], row["verification"], row["verification_note"], row["public_key"],
        row["contact"], row["user_id"], from_db(row["created_at"]), row["created_by"],
    )  # fmt: skip


class AgencyRepository(Repository):
    """Reads and writes `agencies` (durable: what a request is judged against)."""

    durable = True

    async def add(
        self, name: str, verification: str, note: str, public_key: str | None, contact: str,
        user_id: int | None, by: str, now: datetime,
    ) -> AgencyRecord:  # fmt: skip
        """Store an agency; `Conflict` if its account already belongs to another."""
        try:
            async with self._conn.transaction() as tx:
                cursor = await tx.execute(
                    """INSERT INTO agencies (name, verification, verification_note, public_key,
                           contact, user_id, created_at, created_by)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (name, verification, note, public_key, contact, user_id, to_db(now), by),
                )
                agency_id = inserted_id(cursor.lastrowid)
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"agency not stored: {exc}") from None
        found = await self.get(agency_id)
        if found is None:
            raise RuntimeError("the agency just stored is gone")
        return found

    async def get(self, agency_id: int) -> AgencyRecord | None:
        """One agency."""
        row = await self._conn.fetchone("SELECT * FROM agencies WHERE id = ?", (agency_id,))
        return None if row is None else _record(row)

    async def of_user(self, user_id: int) -> AgencyRecord | None:
        """The agency an agency account belongs to."""
        row = await self._conn.fetchone("SELECT * FROM agencies WHERE user_id = ?", (user_id,))
        return None if row is None else _record(row)

    async def all(self) -> list[AgencyRecord]:
        """Every agency, by name."""
        rows = await self._conn.fetchall("SELECT * FROM agencies ORDER BY name, id")
        return [_record(r) for r in rows]
