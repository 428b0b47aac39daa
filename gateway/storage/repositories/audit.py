"""The audit table: appended in write transactions that see the chain's end, read newest first,
and streamed from the file for verification."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from doorstep.gateway.storage.errors import translated
from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories.audit_checkpoints import (
    CheckpointRecord,
    checkpoint_record,
)

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One stored audit row; `detail` is the canonical JSON text the hash covers."""

    seq: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    ip: str
    detail: str
    prev_hash: str
    hash: str


def _row(row: sqlite3.Row) -> AuditRow:
    return AuditRow(
        row["seq"], row["at"], row["actor"], row["action"], row["target"], row["outcome"],
        row["ip"], row["detail"], row["prev_hash"], row["hash"],
    )  # fmt: skip


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class AuditRepository(Repository):
    """Reads and appends the `audit` table (durable: an audit row is never lost once written)."""

    durable = True

    async def append(self, make: Callable[[AuditRow | None], AuditRow]) -> AuditRow:
        """Insert the row `make` builds from the chain's current last row (None when empty),
        in one write transaction: no other append can slip in between."""
        async with self._conn.transaction() as tx:
            async with tx.execute("SELECT * FROM audit ORDER BY seq DESC LIMIT 1") as cursor:
                last = await cursor.fetchone()
            row = make(None if last is None else _row(last))
            await tx.execute(
                """INSERT INTO audit
                     (seq, at, actor, action, target, outcome, ip, detail, prev_hash, hash)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (row.seq, row.at, row.actor, row.action, row.target, row.outcome, row.ip,
                 row.detail, row.prev_hash, row.hash),
            )  # fmt: skip
        return row

    async def after(self, seq: int, limit: int = MAX_PAGE) -> list[AuditRow]:
        """Rows after `seq`, oldest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (seq, max(1, limit))
        )
        return [_row(r) for r in rows]

    async def last_seq(self) -> int:
        """The newest row's `seq` (0 when the log is empty)."""
        row = await self._conn.fetchone("SELECT COALESCE(MAX(seq), 0) AS seq FROM audit")
        return 0 if row is None else int(row["seq"])

    async def query(
        self,
        actor: str | None = None,
        action_prefix: str | None = None,
        target: str | None = None,
        since: str | None = None,
        until: str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditRow]:
        """Newest rows first, filtered (times are the stored text form)."""
        where: list[str] = []
        params: list[str | int] = []
        for column, value in (("actor", actor), ("target", target)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if action_prefix:
            where.append("action LIKE ? ESCAPE '\\'")
            params.append(_like_prefix(action_prefix))
        if since:
            where.append("at >= ?")
            params.append(since)
        if until:
            where.append("at < ?")
            params.append(until)
        if before_seq is not None:
            where.append("seq < ?")
            params.append(str(before_seq))
        # Only fixed column names are joined in; every value is a bound parameter.
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608
        sql += " ORDER BY seq DESC LIMIT ?"
        rows = await self._conn.fetchall(sql, (*params, max(1, min(limit, MAX_PAGE))))
        return [_row(r) for r in rows]

    def file_path(self) -> Path:
        """The database file, for `open_snapshot` in a worker thread."""
        return self._conn.path


class AuditSnapshot:
    """A consistent read-only view of the log and its checkpoints (blocking: use it in a
    worker thread), however many rows the gateway appends meanwhile."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self) -> Iterator[AuditRow]:
        """Every row in `seq` order, a row at a time."""
        with translated():
            for raw in self._conn.execute("SELECT * FROM audit ORDER BY seq"):
                yield _row(raw)

    def checkpoints(self) -> list[CheckpointRecord]:
        """Every checkpoint, smallest first, without their leaves."""
        with translated():
            rows = self._conn.execute(
                "SELECT size, at, root, fingerprint, note, last_hash, frontier "
                "FROM audit_checkpoints ORDER BY size"
            ).fetchall()
        return [checkpoint_record(r) for r in rows]

    def leaves(self, size: int) -> bytes:
        """The entry hashes a checkpoint stored of its own batch (empty if there is none)."""
        with translated():
            row = self._conn.execute(
                "SELECT leaves FROM audit_checkpoints WHERE size = ?", (size,)
            ).fetchone()
        return b"" if row is None else bytes(row["leaves"])

    def entry_hashes(self, upto: int) -> list[str]:
        """The entry hashes of rows 1..`upto`, in order (hex)."""
        with translated():
            rows = self._conn.execute(
                "SELECT hash FROM audit WHERE seq <= ? ORDER BY seq", (upto,)
            ).fetchall()
        return [r["hash"] for r in rows]

    def row(self, seq: int) -> AuditRow | None:
        """One row."""
        with translated():
            raw = self._conn.execute("SELECT * FROM audit WHERE seq = ?", (seq,)).fetchone()
        return None if raw is None else _row(raw)


@contextmanager
def open_snapshot(path: Path) -> Iterator[AuditSnapshot]:
    """A read-only connection of the database file's own, in one read transaction."""
    with translated():
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        with translated():
            conn.execute("BEGIN")
        yield AuditSnapshot(conn)
    finally:
        conn.close()
