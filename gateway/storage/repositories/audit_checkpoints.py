"""Signed audit checkpoints: appended after the rows they cover, read newest first."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from doorstep.gateway.storage.repositories._base import Repository

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """One stored checkpoint; `leaves` is empty unless asked for (it is 32 bytes per row)."""

    size: int
    at: str
    root: str
    fingerprint: str
    note: str
    last_hash: str
    frontier: bytes
    leaves: bytes = b""


_COLUMNS = "size, at, root, fingerprint, note, last_hash, frontier"


def checkpoint_record(row: sqlite3.Row, with_leaves: bool = False) -> CheckpointRecord:
    """A record from a row selected with `_COLUMNS` (and `leaves` when `with_leaves`)."""
    return CheckpointRecord(
        row["size"], row["at"], row["root"], row["fingerprint"], row["note"], row["last_hash"],
        row["frontier"], row["leaves"] if with_leaves else b"",
    )  # fmt: skip


class AuditCheckpointRepository(Repository):
    """Reads and appends `audit_checkpoints` (durable, like the log)."""

    durable = True

    async def add(self, record: CheckpointRecord) -> None:
        """Store a checkpoint; `Conflict` if one of that size exists (another process made it)."""
        await self._conn.execute(
            """INSERT INTO audit_checkpoints
                 (size, at, root, fingerprint, note, last_hash, frontier, leaves)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (record.size, record.at, record.root, record.fingerprint, record.note,
             record.last_hash, record.frontier, record.leaves),
        )  # fmt: skip

    async def latest(self) -> CheckpointRecord | None:
        """The checkpoint covering the most rows."""
        row = await self._conn.fetchone(
            f"SELECT {_COLUMNS} FROM audit_checkpoints ORDER BY size DESC LIMIT 1"  # noqa: S608
        )
        return None if row is None else checkpoint_record(row)

    async def covering(self, seq: int) -> CheckpointRecord | None:
        """The smallest checkpoint that covers row `seq`."""
        row = await self._conn.fetchone(
            f"SELECT {_COLUMNS} FROM audit_checkpoints WHERE size >= ? "  # noqa: S608
            "ORDER BY size LIMIT 1",
            (seq,),
        )
        return None if row is None else checkpoint_record(row)

    async def page(self, before_size: int | None = None, limit: int = 50) -> list[CheckpointRecord]:
        """Newest first, without their leaves."""
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM audit_checkpoints WHERE size < ? "  # noqa: S608
            "ORDER BY size DESC LIMIT ?",
            (before_size if before_size is not None else 2**62, max(1, min(limit, MAX_PAGE))),
        )
        return [checkpoint_record(r) for r in rows]
