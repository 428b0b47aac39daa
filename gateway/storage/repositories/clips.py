"""Recorded clips: where each file is and whether it is held as evidence."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db


@dataclass(frozen=True, slots=True)
class ClipRecord:
    """A clip row. `path` is relative to the clip root; `id` is opaque and random."""

    id: str
    camera_id: str
    path: str
    started_at: datetime
    ended_at: datetime | None = None
    event_id: int | None = None
    size_bytes: int = 0
    sha256: str | None = None
    held: bool = False


def _record(row: sqlite3.Row) -> ClipRecord:
    return ClipRecord(
        id=row["id"],
        camera_id=row["camera_id"],
        path=row["path"],
        started_at=from_db(row["started_at"]),
        ended_at=maybe_from_db(row["ended_at"]),
        event_id=row["event_id"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        held=bool(row["held"]),
    )


class ClipRepository(Repository):
    """Reads and writes the `clips` table."""

    async def add(self, clip: ClipRecord) -> None:
        """Register a clip (normally after its file is safely on disk)."""
        await self._conn.execute(
            """INSERT INTO clips (id, camera_id, event_id, path, started_at, ended_at,
                                  size_bytes, sha256, held)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                clip.id,
                clip.camera_id,
                clip.event_id,
                clip.path,
                to_db(clip.started_at),
                None if clip.ended_at is None else to_db(clip.ended_at),
                clip.size_bytes,
                clip.sha256,
                int(clip.held),
            ),
        )

    async def get(self, clip_id: str) -> ClipRecord | None:
        """One clip by id."""
        row = await self._conn.fetchone("SELECT * FROM clips WHERE id = ?", (clip_id,))
        return None if row is None else _record(row)

    async def for_camera(self, camera_id: str, limit: int = 100) -> list[ClipRecord]:
        """A camera's clips, newest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM clips WHERE camera_id = ? ORDER BY started_at DESC LIMIT ?",
            (camera_id, max(1, min(limit, 1000))),
        )
        return [_record(r) for r in rows]

    async def set_held(self, clip_id: str, held: bool) -> bool:
        """Hold a clip (retention never deletes it) or release it."""
        outcome = await self._conn.execute(
            "UPDATE clips SET held = ? WHERE id = ?", (int(held), clip_id)
        )
        return outcome.rowcount > 0

    async def expired(self, cutoff: datetime, limit: int = 500) -> list[ClipRecord]:
        """Unheld clips that started before `cutoff`, oldest first: retention candidates."""
        rows = await self._conn.fetchall(
            "SELECT * FROM clips WHERE held = 0 AND started_at < ? ORDER BY started_at LIMIT ?",
            (to_db(cutoff), limit),
        )
        return [_record(r) for r in rows]

    async def delete(self, clip_id: str) -> bool:
        """Forget a clip whose file is gone; held clips are never deleted."""
        outcome = await self._conn.execute(
            "DELETE FROM clips WHERE id = ? AND held = 0", (clip_id,)
        )
        return outcome.rowcount > 0
