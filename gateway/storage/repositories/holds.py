"""Legal holds on clips: who held a clip, why and until when, and who released it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from doorstep.gateway.storage.errors import Conflict
from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db

_IN_FORCE = "released_at IS NULL AND (until IS NULL OR until > ?)"


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """One hold on one clip."""

    id: int
    clip_id: str
    reason: str
    until: datetime | None
    held_by: str
    created_at: datetime
    released_at: datetime | None = None
    released_by: str | None = None
    request_id: str | None = None
    """The police request a legal hold keeps the clip for."""
    legal: bool = False


def _record(row: sqlite3.Row) -> HoldRecord:
    return HoldRecord(
        row["id"], row["clip_id"], row["reason"], maybe_from_db(row["until"]), row["held_by"],
        from_db(row["created_at"]), maybe_from_db(row["released_at"]), row["released_by"],
        row["request_id"], bool(row["legal"]),
    )  # fmt: skip


class HoldRepository(Repository):
    """Reads and writes `clip_holds`, and keeps `clips.held` in step (durable: a hold is
    evidence, and must survive a power cut once acknowledged)."""

    durable = True

    async def hold(
        self, clip_id: str, reason: str, until: datetime | None, by: str, now: datetime,
        *, request_id: str | None = None, legal: bool = False,
    ) -> int:  # fmt: skip
        """Put a hold on a clip; returns its id. `Conflict` if the clip does not exist or is
        being deleted, or a legal hold lacks its request id or end date (the schema refuses)."""
        try:
            async with self._conn.transaction() as tx:
                marked = await tx.execute(
                    "UPDATE clips SET held = 1 WHERE id = ? AND state != 'deleting'", (clip_id,)
                )
                if not marked.rowcount:
                    raise Conflict(f"no clip {clip_id} to hold")
                cursor = await tx.execute(
                    """INSERT INTO clip_holds (clip_id, reason, until, held_by, created_at,
                           request_id, legal)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    (clip_id, reason, None if until is None else to_db(until), by, to_db(now),
                     request_id, int(legal)),
                )  # fmt: skip
                hold_id = cursor.lastrowid
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"hold refused: {exc}") from None
        if hold_id is None:
            raise RuntimeError("INSERT returned no rowid")
        return hold_id

    async def release(self, clip_id: str, by: str, now: datetime) -> int:
        """Release every hold in force on a clip; returns how many were released."""
        async with self._conn.transaction() as tx:
            cursor = await tx.execute(
                f"UPDATE clip_holds SET released_at = ?, released_by = ? "  # noqa: S608
                f"WHERE clip_id = ? AND {_IN_FORCE}",
                (to_db(now), by, clip_id, to_db(now)),
            )
            released = cursor.rowcount
            await self._sync_held(tx, clip_id, now)
        return released

    async def in_force(self, clip_id: str, now: datetime) -> list[HoldRecord]:
        """The holds in force on a clip."""
        rows = await self._conn.fetchall(
            f"SELECT * FROM clip_holds WHERE clip_id = ? AND {_IN_FORCE} ORDER BY id",  # noqa: S608
            (clip_id, to_db(now)),
        )
        return [_record(r) for r in rows]

    async def lapse(self, now: datetime) -> list[str]:
        """Clear `clips.held` where every hold has reached its end date; returns those clips."""
        rows = await self._conn.fetchall(
            f"""SELECT id FROM clips WHERE held = 1 AND NOT EXISTS (
                    SELECT 1 FROM clip_holds WHERE clip_id = clips.id AND {_IN_FORCE})""",  # noqa: S608
            (to_db(now),),
        )
        lapsed = [r["id"] for r in rows]
        if lapsed:
            async with self._conn.transaction() as tx:
                for clip_id in lapsed:
                    await self._sync_held(tx, clip_id, now)
        return lapsed

    @staticmethod
    async def _sync_held(tx: aiosqlite.Connection, clip_id: str, now: datetime) -> None:
        await tx.execute(
            f"""UPDATE clips SET held = EXISTS (
                    SELECT 1 FROM clip_holds WHERE clip_id = ? AND {_IN_FORCE})
                WHERE id = ?""",  # noqa: S608
            (clip_id, to_db(now), clip_id),
        )
