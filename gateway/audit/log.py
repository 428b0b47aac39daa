"""Append-only audit rows, each hash-chained to the one before, on the synchronous=FULL store."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from doorstep.gateway.storage.repositories.audit import AuditRepository, AuditRow, open_snapshot

GENESIS = "0" * 64
"""The `prev_hash` of the first row."""
MAX_FIELD = 512
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited access or change."""

    seq: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    ip: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What `verify_chain` found: ok, or the first row that does not fit and why."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def _canonical_detail(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), default=str)


def row_hash(
    prev_hash: str,
    at: str,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    ip: str,
    detail: str,
) -> str:
    """SHA-256 over the previous hash and every field of the row, unambiguously framed."""
    framed = json.dumps(
        [prev_hash, at, actor, action, target, outcome, ip, detail], separators=(",", ":")
    )
    return hashlib.sha256(framed.encode()).hexdigest()


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq, at=row.at, actor=row.actor, action=row.action, target=row.target,
        outcome=row.outcome, ip=row.ip, detail=json.loads(row.detail), prev_hash=row.prev_hash,
        hash=row.hash,
    )  # fmt: skip


def recompute_hash(entry: AuditRow | AuditEntry) -> str:
    """The hash a row's content calls for (a stored row's detail text is hashed as stored: it
    was written canonical, so any other text is a change)."""
    detail = entry.detail if isinstance(entry, AuditRow) else _canonical_detail(entry.detail)
    return row_hash(
        entry.prev_hash, entry.at, entry.actor, entry.action, entry.target, entry.outcome,
        entry.ip, detail,
    )  # fmt: skip


def verify_chain(
    rows: Iterable[AuditRow | AuditEntry], previous: str = GENESIS, first_seq: int = 1
) -> VerifyResult:
    """Walk rows in `seq` order from `first_seq` (whose `prev_hash` must be `previous`);
    report the first whose number, link or hash is wrong."""
    checked, expected_seq = 0, first_seq
    for entry in rows:
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"row {expected_seq} is missing")
        if entry.prev_hash != previous:
            return VerifyResult(False, checked, entry.seq, "does not link to the row before it")
        if recompute_hash(entry) != entry.hash:
            return VerifyResult(False, checked, entry.seq, "its content was changed")
        previous, checked, expected_seq = entry.hash, checked + 1, entry.seq + 1
    return VerifyResult(True, checked)


class AuditLog:
    """Appends audit rows; reads and verifies them."""

    def __init__(self, rows: AuditRepository) -> None:
        self._rows = rows
        self._watchers: list[Callable[[int], None]] = []

    def watch(self, callback: Callable[[int], None]) -> None:
        """Call `callback(seq)` after every row this process appends (the checkpointer)."""
        self._watchers.append(callback)

    async def append(
        self,
        actor: str,
        action: str,
        target: str = "",
        outcome: str = "ok",
        ip: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Add a row at the end of the chain (committed before this returns)."""
        at = datetime.now(UTC).strftime(_TIME_FORMAT)
        actor, action, target = actor[:MAX_FIELD], action[:64], target[:MAX_FIELD]
        outcome, ip = outcome[:32], ip[:64]
        detail_json = _canonical_detail(detail)
        if len(detail_json) > 4096:
            detail_json = _canonical_detail({"truncated": detail_json[:4000]})

        def link(last: AuditRow | None) -> AuditRow:
            prev_hash = last.hash if last else GENESIS
            seq = last.seq + 1 if last else 1
            digest = row_hash(prev_hash, at, actor, action, target, outcome, ip, detail_json)
            return AuditRow(
                seq, at, actor, action, target, outcome, ip, detail_json, prev_hash, digest
            )

        entry = _entry(await self._rows.append(link))
        for watcher in self._watchers:
            watcher(entry.seq)
        return entry

    async def query(
        self,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: str | None = None,
        until: str | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest rows first, filtered; `action` matches a prefix ("login" finds login.*)."""
        rows = await self._rows.query(actor, action, target, since, until, before_seq, limit)
        return [_entry(r) for r in rows]

    async def verify(self) -> VerifyResult:
        """Check the whole chain, streaming it in a worker thread (it hashes every row: 100k rows
        take seconds, which must not stall the event loop)."""
        return await asyncio.to_thread(verify_file, self._rows.file_path())

    def file_path(self) -> Path:
        """The database file the log lives in (for verifiers in worker threads)."""
        return self._rows.file_path()


def verify_file(path: Path) -> VerifyResult:
    """Walk a database file's audit chain in `seq` order, a row at a time (blocking), in one
    consistent snapshot however many rows the gateway appends meanwhile."""
    with open_snapshot(path) as snapshot:
        return verify_chain(snapshot.rows())
