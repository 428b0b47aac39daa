"""History of camera events (motion, doorbell presses, …)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, inserted_id, to_db


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event; `received_at` (gateway clock) is authoritative over `occurred_at`."""

    camera_id: str
    kind: str
    active: bool | None
    occurred_at: datetime
    received_at: datetime
    source: str | None = None
    topic: str = ""
    initial: bool = False
    attributes: Mapping[str, str] = field(default_factory=dict)
    id: int | None = None


def _record(row: sqlite3.Row) -> EventRecord:
    return EventRecord(
        id=row["id"],
        camera_id=row["camera_id"],
        kind=row["kind"],
        active=None if row["active"] is None else bool(row["active"]),
        occurred_at=from_db(row["occurred_at"]),
        received_at=from_db(row["received_at"]),
        source=row["source"],
        topic=row["topic"],
        initial=bool(row["initial"]),
        attributes=json.loads(row["attributes"]) if row["attributes"] != "{}" else {},
    )


class EventRepository(Repository):
    """Reads and writes the `events` table."""

    async def add(self, event: EventRecord) -> int:
        """Store an event and return its id."""
        outcome = await self._conn.execute(
            """INSERT INTO events (camera_id, kind, active, initial, occurred_at, received_at,
                                   source, topic, attributes)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                event.camera_id,
                event.kind,
                None if event.active is None else int(event.active),
                int(event.initial),
                to_db(event.occurred_at),
                to_db(event.received_at),
                event.source,
                event.topic,
                json.dumps(dict(event.attributes), sort_keys=True),
            ),
        )
        return inserted_id(outcome.lastrowid)

    async def recent(
        self,
        camera_ids: list[str] | None = None,
        limit: int = 100,
        before: datetime | None = None,
        kinds: set[str] | None = None,
    ) -> list[EventRecord]:
        """Newest events first, optionally limited to some cameras, kinds and to before a time."""
        where, params = [], []
        if kinds:
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            params.extend(sorted(kinds))
        if camera_ids is not None:
            where.append(f"camera_id IN ({','.join('?' * len(camera_ids))})")
            params.extend(camera_ids)
        if before is not None:
            where.append("received_at < ?")
            params.append(to_db(before))
        sql = "SELECT * FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY received_at DESC, id DESC LIMIT ?"
        rows = await self._conn.fetchall(sql, (*params, max(1, min(limit, 1000))))
        return [_record(r) for r in rows]

    async def ids_between(
        self, camera_id: str, since: datetime, until: datetime, limit: int = 1000
    ) -> list[int]:
        """The ids of a camera's events received in [since, until] (what a clip covers)."""
        rows = await self._conn.fetchall(
            """SELECT id FROM events WHERE camera_id = ? AND received_at >= ?
                   AND received_at <= ? ORDER BY received_at LIMIT ?""",
            (camera_id, to_db(since), to_db(until), limit),
        )
        return [r["id"] for r in rows]

    async def kinds_of(self, event_ids: list[int]) -> list[str]:
        """The distinct kinds of some events, sorted."""
        if not event_ids:
            return []
        rows = await self._conn.fetchall(
            f"SELECT DISTINCT kind FROM events WHERE id IN ({','.join('?' * len(event_ids))})"  # noqa: S608
            " ORDER BY kind",
            event_ids,
        )
        return [r["kind"] for r in rows]

    async def delete_older_than(self, cutoff: datetime, limit: int | None = None) -> int:
        """Delete events received before `cutoff` (the oldest `limit` of them, if given: one
        batch of a long clean-up); returns how many."""
        if limit is None:
            outcome = await self._conn.execute(
                "DELETE FROM events WHERE received_at < ?", (to_db(cutoff),)
            )
        else:
            outcome = await self._conn.execute(
                """DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_at < ?
                   ORDER BY received_at LIMIT ?)""",
                (to_db(cutoff), max(1, limit)),
            )
        return outcome.rowcount
