"""Recorded clips: where each file is, what it holds, the events it covers."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db

MAX_PAGE = 500


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
    duration_ms: int = 0
    frames: int = 0
    video_codec: str = "h264"
    width: int | None = None
    height: int | None = None
    audio_codec: str | None = None
    clock_offset_s: float | None = None
    mode: str = "events"
    kinds: tuple[str, ...] = field(default_factory=tuple)
    recovered: bool = False
    state: str = "ok"
    poster: bool = False


@dataclass(frozen=True, slots=True)
class ClipQuery:
    """Which clips to list: newest first, `before` a start time for the next page."""

    cameras: Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None
    held: bool | None = None
    before: datetime | None = None
    started_since: datetime | None = None
    """Only clips that started at or after this (bounds an overlap query to the index)."""
    limit: int = 100


def _kinds_text(kinds: Sequence[str]) -> str:
    return "," + "".join(f"{k}," for k in sorted(set(kinds)))


def _record(row: sqlite3.Row) -> ClipRecord:
    return ClipRecord(
        id=row["id"], camera_id=row["camera_id"], path=row["path"],
        started_at=from_db(row["started_at"]), ended_at=maybe_from_db(row["ended_at"]),
        event_id=row["event_id"], size_bytes=row["size_bytes"], sha256=row["sha256"],
        held=bool(row["held"]), duration_ms=row["duration_ms"], frames=row["frames"],
        video_codec=row["video_codec"], width=row["width"], height=row["height"],
        audio_codec=row["audio_codec"], clock_offset_s=row["clock_offset_s"], mode=row["mode"],
        kinds=tuple(k for k in row["kinds"].split(",") if k), recovered=bool(row["recovered"]),
        state=row["state"], poster=bool(row["poster"]),
    )  # fmt: skip


class ClipRepository(Repository):
    """Reads and writes the `clips` table (the standard connection: a clip lost with a power
    cut is found again from its file at the next start)."""

    async def add(self, clip: ClipRecord, event_ids: Sequence[int] = ()) -> None:
        """Register a clip whose file is safely on disk, with the events it covers."""
        async with self._conn.transaction() as tx:
            await tx.execute(
                """INSERT INTO clips (id, camera_id, event_id, path, started_at, ended_at,
                       size_bytes, sha256, held, duration_ms, frames, video_codec, width,
                       height, audio_codec, clock_offset_s, mode, kinds, recovered, state,
                       poster)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    clip.id, clip.camera_id, clip.event_id, clip.path, to_db(clip.started_at),
                    None if clip.ended_at is None else to_db(clip.ended_at), clip.size_bytes,
                    clip.sha256, int(clip.held), clip.duration_ms, clip.frames,
                    clip.video_codec, clip.width, clip.height, clip.audio_codec,
                    clip.clock_offset_s, clip.mode, _kinds_text(clip.kinds),
                    int(clip.recovered), clip.state, int(clip.poster),
                ),
            )  # fmt: skip
            await tx.executemany(
                """INSERT OR IGNORE INTO clip_events (clip_id, event_id)
                   SELECT ?, id FROM events WHERE id = ?""",
                [(clip.id, e) for e in event_ids],
            )

    async def get(self, clip_id: str) -> ClipRecord | None:
        """One clip by id."""
        row = await self._conn.fetchone("SELECT * FROM clips WHERE id = ?", (clip_id,))
        return None if row is None else _record(row)

    async def paths(self) -> set[str]:
        """Every registered clip's relative path (for the start-up reconciliation)."""
        rows = await self._conn.fetchall("SELECT path FROM clips")
        return {r["path"] for r in rows}

    async def find(self, query: ClipQuery) -> list[ClipRecord]:
        """Clips matching `query`, newest first."""
        where: list[str] = ["state != 'deleting'"]
        params: list[object] = []
        if query.cameras is not None:
            if not query.cameras:
                return []
            where.append(f"camera_id IN ({','.join('?' * len(query.cameras))})")
            params.extend(query.cameras)
        if query.since is not None:
            where.append("(ended_at IS NULL OR ended_at > ?)")
            params.append(to_db(query.since))
        if query.until is not None:
            where.append("started_at < ?")
            params.append(to_db(query.until))
        if query.before is not None:
            where.append("started_at < ?")
            params.append(to_db(query.before))
        if query.started_since is not None:
            where.append("started_at >= ?")
            params.append(to_db(query.started_since))
        if query.kind is not None:
            where.append("kinds LIKE ?")
            params.append(f"%,{query.kind},%")
        if query.held is not None:
            where.append("held = ?")
            params.append(int(query.held))
        sql = f"SELECT * FROM clips WHERE {' AND '.join(where)} "  # noqa: S608  # placeholders only
        sql += "ORDER BY started_at DESC, id DESC LIMIT ?"
        rows = await self._conn.fetchall(sql, (*params, max(1, min(query.limit, MAX_PAGE))))
        return [_record(r) for r in rows]

    async def overlapping_ids(
        self, since: datetime, until: datetime, started_since: datetime, limit: int = MAX_PAGE
    ) -> list[str]:
        """The ids of recorded clips overlapping [since, until), oldest first; only those that
        started at or after `started_since` are looked at (the index bounds the scan)."""
        rows = await self._conn.fetchall(
            """SELECT id FROM clips WHERE state = 'ok' AND started_at >= ? AND started_at < ?
                   AND (ended_at IS NULL OR ended_at > ?)
               ORDER BY started_at, id LIMIT ?""",
            (to_db(started_since), to_db(until), to_db(since), max(1, min(limit, MAX_PAGE))),
        )
        return [r["id"] for r in rows]

    async def many(self, clip_ids: Sequence[str]) -> list[ClipRecord]:
        """These clips (those that exist), in the order given."""
        found: dict[str, ClipRecord] = {}
        for at in range(0, len(clip_ids), MAX_PAGE):
            chunk = list(clip_ids[at : at + MAX_PAGE])
            rows = await self._conn.fetchall(
                f"SELECT * FROM clips WHERE id IN ({','.join('?' * len(chunk))})",  # noqa: S608
                chunk,
            )
            found |= {r["id"]: _record(r) for r in rows}
        return [found[i] for i in clip_ids if i in found]

    async def event_ids(self, clip_id: str) -> list[int]:
        """The events a clip covers."""
        rows = await self._conn.fetchall(
            "SELECT event_id FROM clip_events WHERE clip_id = ? ORDER BY event_id", (clip_id,)
        )
        return [r["event_id"] for r in rows]

    async def set_poster(self, clip_id: str) -> None:
        """The clip's poster image is written."""
        await self._conn.execute("UPDATE clips SET poster = 1 WHERE id = ?", (clip_id,))

    async def without_poster(self, limit: int = 100) -> list[ClipRecord]:
        """Clips still missing a poster (a crash came between the row and the image)."""
        rows = await self._conn.fetchall(
            "SELECT * FROM clips WHERE poster = 0 AND state = 'ok' ORDER BY started_at LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]

    async def set_state(self, clip_ids: Sequence[str], state: str) -> None:
        """Mark clips `ok`, `missing` or `deleting`."""
        await self._conn.executemany(
            "UPDATE clips SET state = ? WHERE id = ?", [(state, c) for c in clip_ids]
        )

    async def mark_deleting(self, clip_ids: Sequence[str]) -> list[str]:
        """Mark unheld clips as being deleted (a hold can no longer be put on them); returns
        the ids marked, in order. Atomic: a clip held meanwhile is left out."""
        marked = []
        async with self._conn.transaction() as tx:
            for clip_id in clip_ids:
                cursor = await tx.execute(
                    """UPDATE clips SET state = 'deleting'
                       WHERE id = ? AND held = 0 AND state = 'ok'""",
                    (clip_id,),
                )
                if cursor.rowcount:
                    marked.append(clip_id)
        return marked

    async def in_state(self, state: str) -> list[ClipRecord]:
        """Every clip in one state (the start-up pass finishes `deleting` ones)."""
        rows = await self._conn.fetchall("SELECT * FROM clips WHERE state = ?", (state,))
        return [_record(r) for r in rows]

    async def expired(
        self, camera_id: str, mode: str, cutoff: datetime, limit: int = 500
    ) -> list[ClipRecord]:
        """A camera's unheld clips of one mode that ended before `cutoff`, oldest first."""
        rows = await self._conn.fetchall(
            """SELECT * FROM clips WHERE camera_id = ? AND mode = ? AND held = 0
                   AND state = 'ok' AND started_at < ?
               ORDER BY started_at LIMIT ?""",
            (camera_id, mode, to_db(cutoff), limit),
        )
        return [_record(r) for r in rows]

    async def oldest_unheld(self, limit: int = 500) -> list[ClipRecord]:
        """The oldest unheld clips of every camera: what goes first when space runs short."""
        rows = await self._conn.fetchall(
            "SELECT * FROM clips WHERE held = 0 AND state = 'ok' ORDER BY started_at LIMIT ?",
            (limit,),
        )
        return [_record(r) for r in rows]

    async def cameras(self) -> list[str]:
        """Every camera that has clips."""
        rows = await self._conn.fetchall("SELECT DISTINCT camera_id FROM clips")
        return [r["camera_id"] for r in rows]

    async def delete(self, clip_ids: Sequence[str]) -> int:
        """Forget clips whose files are gone; held clips are never deleted (the schema refuses).
        Returns how many rows went."""
        deleted = 0
        async with self._conn.transaction() as tx:
            for clip_id in clip_ids:
                cursor = await tx.execute("DELETE FROM clips WHERE id = ? AND held = 0", (clip_id,))
                deleted += cursor.rowcount
        return deleted
