"""Shares of clips with neighbours: the share, its derived copies, recipients, views."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db


@dataclass(frozen=True, slots=True)
class ShareRecord:
    """A share row. `token_hash` is the SHA-256 of its link's token (None: no link)."""

    id: str
    title: str
    category: str
    audio: bool
    created_by: str
    created_at: datetime
    expires_at: datetime
    description: str = ""
    token_hash: str | None = None
    place_cell: str | None = None
    place_label: str | None = None
    household: str | None = None
    view_limit: int | None = None
    views: int = 0
    downloads: int = 0
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    ended_at: datetime | None = None
    """When the gateway first saw it past its expiry (kept, whatever the clock does later)."""
    files_removed: bool = False


@dataclass(frozen=True, slots=True)
class ShareItemRecord:
    """One shared clip's derived copy; `file` is relative to the shares directory."""

    share_id: str
    position: int
    clip_id: str
    recorded_at: datetime
    start_ms: int = 0
    end_ms: int | None = None
    exact: bool = False
    masks: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    state: str = "pending"
    error: str | None = None
    file: str | None = None
    size_bytes: int = 0
    sha256: str | None = None
    duration_ms: int = 0
    width: int | None = None
    height: int | None = None
    has_audio: bool = False
    derivation: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ShareAccessRecord:
    """One view or download of a share (coarse client only: no address)."""

    id: int
    share_id: str
    at: datetime
    kind: str
    via: str
    account: str | None
    client: str


def _share(row: sqlite3.Row) -> ShareRecord:
    return ShareRecord(
        id=row["id"], title=row["title"], category=row["category"], audio=bool(row["audio"]),
        created_by=row["created_by"], created_at=from_db(row["created_at"]),
        expires_at=from_db(row["expires_at"]), description=row["description"],
        token_hash=row["token_hash"], place_cell=row["place_cell"],
        place_label=row["place_label"], household=row["household"],
        view_limit=row["view_limit"], views=row["views"], downloads=row["downloads"],
        revoked_at=maybe_from_db(row["revoked_at"]), revoked_by=row["revoked_by"],
        ended_at=maybe_from_db(row["ended_at"]), files_removed=bool(row["files_removed"]),
    )  # fmt: skip


def _item(row: sqlite3.Row) -> ShareItemRecord:
    return ShareItemRecord(
        share_id=row["share_id"], position=row["position"], clip_id=row["clip_id"],
        recorded_at=from_db(row["recorded_at"]), start_ms=row["start_ms"], end_ms=row["end_ms"],
        exact=bool(row["exact"]), masks=tuple(json.loads(row["masks"])), state=row["state"],
        error=row["error"], file=row["file"], size_bytes=row["size_bytes"],
        sha256=row["sha256"], duration_ms=row["duration_ms"], width=row["width"],
        height=row["height"], has_audio=bool(row["has_audio"]),
        derivation=None if row["derivation"] is None else json.loads(row["derivation"]),
    )  # fmt: skip


def _access(row: sqlite3.Row) -> ShareAccessRecord:
    return ShareAccessRecord(
        row["id"], row["share_id"], from_db(row["at"]), row["kind"], row["via"], row["account"],
        row["client"],
    )  # fmt: skip


_OPEN = "revoked_at IS NULL AND ended_at IS NULL AND expires_at > ?"
"""A share that can be watched at the time given (the caller's clock, never SQLite's)."""


class ShareRepository(Repository):
    """Reads and writes the share tables (durable: a revocation must survive a power cut)."""

    durable = True

    async def add(
        self, share: ShareRecord, items: Sequence[ShareItemRecord], recipients: Sequence[int]
    ) -> None:
        """Store a new share with its items and recipients, all or nothing."""
        async with self._conn.transaction() as tx:
            await tx.execute(
                """INSERT INTO shares (id, token_hash, title, description, category, audio,
                       place_cell, place_label, household, created_by, created_at, expires_at,
                       view_limit)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    share.id, share.token_hash, share.title, share.description, share.category,
                    int(share.audio), share.place_cell, share.place_label, share.household,
                    share.created_by, to_db(share.created_at), to_db(share.expires_at),
                    share.view_limit,
                ),
            )  # fmt: skip
            await tx.executemany(
                """INSERT INTO share_items (share_id, position, clip_id, start_ms, end_ms, exact,
                       masks, recorded_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (share.id, i.position, i.clip_id, i.start_ms, i.end_ms, int(i.exact),
                     json.dumps(list(i.masks)), to_db(i.recorded_at))
                    for i in items
                ],
            )  # fmt: skip
            await tx.executemany(
                "INSERT INTO share_recipients (share_id, user_id) VALUES (?, ?)",
                [(share.id, user_id) for user_id in recipients],
            )

    async def get(self, share_id: str) -> ShareRecord | None:
        """One share by id."""
        row = await self._conn.fetchone("SELECT * FROM shares WHERE id = ?", (share_id,))
        return None if row is None else _share(row)

    async def by_token_hash(self, token_hash: str) -> ShareRecord | None:
        """The share whose link token hashes to `token_hash`."""
        row = await self._conn.fetchone("SELECT * FROM shares WHERE token_hash = ?", (token_hash,))
        return None if row is None else _share(row)

    async def newest(self, limit: int = 200) -> list[ShareRecord]:
        """Every share, newest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM shares ORDER BY created_at DESC, id LIMIT ?", (limit,)
        )
        return [_share(r) for r in rows]

    async def for_recipient(self, user_id: int, limit: int = 200) -> list[ShareRecord]:
        """The shares addressed to one account, newest first."""
        rows = await self._conn.fetchall(
            """SELECT shares.* FROM shares JOIN share_recipients r ON r.share_id = shares.id
               WHERE r.user_id = ? ORDER BY created_at DESC, id LIMIT ?""",
            (user_id, limit),
        )
        return [_share(r) for r in rows]

    async def recipients(self, share_id: str) -> list[int]:
        """The accounts a share is addressed to."""
        rows = await self._conn.fetchall(
            "SELECT user_id FROM share_recipients WHERE share_id = ? ORDER BY user_id",
            (share_id,),
        )
        return [r["user_id"] for r in rows]

    async def items(self, share_id: str) -> list[ShareItemRecord]:
        """A share's clips, in order."""
        rows = await self._conn.fetchall(
            "SELECT * FROM share_items WHERE share_id = ? ORDER BY position", (share_id,)
        )
        return [_item(r) for r in rows]

    async def unfinished_items(self) -> list[ShareItemRecord]:
        """Copies not made yet (a restart came before): made again at the next start."""
        rows = await self._conn.fetchall(
            "SELECT * FROM share_items WHERE state IN ('pending', 'working') "
            "ORDER BY share_id, position"
        )
        return [_item(r) for r in rows]

    async def set_item(self, item: ShareItemRecord) -> None:
        """Write a derived copy's state and what was made."""
        await self._conn.execute(
            """UPDATE share_items SET state = ?, error = ?, file = ?, size_bytes = ?, sha256 = ?,
                   duration_ms = ?, width = ?, height = ?, has_audio = ?, derivation = ?
               WHERE share_id = ? AND position = ?""",
            (
                item.state, item.error, item.file, item.size_bytes, item.sha256,
                item.duration_ms, item.width, item.height, int(item.has_audio),
                None if item.derivation is None else json.dumps(item.derivation, sort_keys=True),
                item.share_id, item.position,
            ),
        )  # fmt: skip

    async def count_view(
        self, share_id: str, now: datetime, via: str, account: str | None, client: str,
        view_key_hash: str,
    ) -> bool:  # fmt: skip
        """Count one view if the share is open and under its view limit (atomic: a burst of
        views can never pass the limit); False when it is not."""
        async with self._conn.transaction() as tx:
            cursor = await tx.execute(
                f"""UPDATE shares SET views = views + 1
                    WHERE id = ? AND {_OPEN}
                      AND (view_limit IS NULL OR views < view_limit)""",  # noqa: S608
                (share_id, to_db(now)),
            )
            if not cursor.rowcount:
                return False
            await tx.execute(
                """INSERT INTO share_accesses (share_id, at, kind, via, account, client,
                       view_key_hash) VALUES (?, ?, 'view', ?, ?, ?, ?)""",
                (share_id, to_db(now), via, account, client[:80], view_key_hash),
            )
        return True

    async def has_view(self, share_id: str, view_key_hash: str) -> bool:
        """Whether a view of this share was counted under this key."""
        row = await self._conn.fetchone(
            "SELECT 1 FROM share_accesses WHERE view_key_hash = ? AND share_id = ?",
            (view_key_hash, share_id),
        )
        return row is not None

    async def count_download(
        self, share_id: str, now: datetime, via: str, account: str | None, client: str
    ) -> None:
        """Record a download of an open share."""
        async with self._conn.transaction() as tx:
            await tx.execute("UPDATE shares SET downloads = downloads + 1 WHERE id = ?",
                             (share_id,))  # fmt: skip
            await tx.execute(
                """INSERT INTO share_accesses (share_id, at, kind, via, account, client)
                   VALUES (?, ?, 'download', ?, ?, ?)""",
                (share_id, to_db(now), via, account, client[:80]),
            )

    async def accesses(self, share_id: str, limit: int = 100) -> list[ShareAccessRecord]:
        """A share's views and downloads, newest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM share_accesses WHERE share_id = ? ORDER BY at DESC, id DESC LIMIT ?",
            (share_id, limit),
        )
        return [_access(r) for r in rows]

    async def revoke(self, share_id: str, now: datetime, by: str) -> bool:
        """End a share now; False if it had already ended."""
        outcome = await self._conn.execute(
            """UPDATE shares SET revoked_at = ?, revoked_by = ?
               WHERE id = ? AND revoked_at IS NULL AND ended_at IS NULL""",
            (to_db(now), by[:64], share_id),
        )
        return outcome.rowcount > 0

    async def extend(self, share_id: str, expires_at: datetime, now: datetime) -> bool:
        """Move an open share's expiry; False if it has ended."""
        outcome = await self._conn.execute(
            f"UPDATE shares SET expires_at = ? WHERE id = ? AND {_OPEN}",  # noqa: S608
            (to_db(expires_at), share_id, to_db(now)),
        )
        return outcome.rowcount > 0

    async def end_expired(self, now: datetime) -> list[ShareRecord]:
        """Mark the shares past their expiry as ended (once); returns those just ended."""
        async with self._conn.transaction() as tx:
            async with tx.execute(
                """SELECT * FROM shares
                   WHERE ended_at IS NULL AND revoked_at IS NULL AND expires_at <= ?""",
                (to_db(now),),
            ) as cursor:
                ended = [_share(r) for r in await cursor.fetchall()]
            await tx.executemany(
                "UPDATE shares SET ended_at = ? WHERE id = ?", [(to_db(now), s.id) for s in ended]
            )
        return ended

    async def ended_with_files(self) -> list[ShareRecord]:
        """Ended or revoked shares whose copies are still on disk."""
        rows = await self._conn.fetchall(
            """SELECT * FROM shares WHERE files_removed = 0
                 AND (revoked_at IS NOT NULL OR ended_at IS NOT NULL)"""
        )
        return [_share(r) for r in rows]

    async def set_files_removed(self, share_id: str) -> None:
        """A share's copies are deleted from disk."""
        await self._conn.execute("UPDATE shares SET files_removed = 1 WHERE id = ?", (share_id,))

    async def delete(self, share_id: str) -> bool:
        """Forget a share (its items, recipients and accesses go with it)."""
        outcome = await self._conn.execute("DELETE FROM shares WHERE id = ?", (share_id,))
        return outcome.rowcount > 0
