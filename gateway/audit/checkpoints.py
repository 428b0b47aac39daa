"""Signed checkpoints of the audit log, every N rows or every hour: the Merkle root over the
entry hashes so far, as a C2SP note signed with the gateway's key, stored beside the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from doorstep.gateway.audit.log import GENESIS, verify_chain
from doorstep.gateway.audit.merkle import HASH_SIZE, Accumulator, leaf_hash
from doorstep.gateway.audit.notes import sign_checkpoint
from doorstep.gateway.keys.signing import SigningKey
from doorstep.gateway.storage import (
    AuditCheckpointRepository,
    AuditRepository,
    CheckpointRecord,
    Conflict,
)

_log = logging.getLogger(__name__)

EVERY_ROWS = 1000
EVERY_SECONDS = 3600.0
BATCH = 1000
"""Rows read per query while catching up (a checkpoint after a long outage covers them all)."""


def _frontier_blob(acc: Accumulator) -> bytes:
    return b"".join(acc.frontier)


def _accumulator(record: CheckpointRecord | None) -> Accumulator:
    if record is None:
        return Accumulator()
    blob = record.frontier
    frontier = [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]
    return Accumulator(record.size, frontier)


class Checkpointer:
    """Makes checkpoints when enough rows or time have passed, and on demand (an evidence
    export needs one covering its own row). Refuses to sign rows whose chain is broken."""

    def __init__(
        self,
        rows: AuditRepository,
        checkpoints: AuditCheckpointRepository,
        key: SigningKey,
        every_rows: int = EVERY_ROWS,
        every_seconds: float = EVERY_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._rows, self._store, self._key = rows, checkpoints, key
        self._every_rows, self._every_seconds, self._now = every_rows, every_seconds, now
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._newest_seq = 0
        self._broken_at: int | None = None

    @property
    def key(self) -> SigningKey:
        """The key checkpoints are signed with."""
        return self._key

    def appended(self, seq: int) -> None:
        """The log gained row `seq` (called by `AuditLog.append`)."""
        self._newest_seq = max(self._newest_seq, seq)
        self._wake.set()

    async def checkpoint_now(self) -> CheckpointRecord | None:
        """A checkpoint covering every row written so far (the latest one if it already does);
        None when the log is empty or its chain is broken (logged once)."""
        async with self._lock:
            latest = await self._store.latest()
            acc = _accumulator(latest)
            previous = latest.last_hash if latest else GENESIS
            leaves = bytearray()
            while True:
                batch = await self._rows.after(acc.size, BATCH)
                if not batch:
                    break
                result = verify_chain(batch, previous, acc.size + 1)
                if not result.ok:
                    self._report_broken(result.first_bad_seq or acc.size + 1, result.reason)
                    return None
                for row in batch:
                    leaf = leaf_hash(bytes.fromhex(row.hash))
                    acc.append(leaf)
                    leaves += leaf
                previous = batch[-1].hash
            if not leaves:
                return latest
            at = self._now().strftime("%Y-%m-%dT%H:%M:%SZ")
            root = acc.root()
            record = CheckpointRecord(
                size=acc.size, at=at, root=root.hex(), fingerprint=self._key.public.fingerprint,
                note=sign_checkpoint(self._key, acc.size, root, at), last_hash=previous,
                frontier=_frontier_blob(acc), leaves=bytes(leaves),
            )  # fmt: skip
            try:
                await self._store.add(record)
            except Conflict:
                # Another process (the CLI) checkpointed the same rows first: theirs stands.
                return await self._store.covering(acc.size)
            self._broken_at = None
            return replace(record, leaves=b"")

    def _report_broken(self, seq: int, reason: str) -> None:
        if self._broken_at != seq:
            self._broken_at = seq
            _log.error("audit log broken at row %d (%s): no checkpoint signed", seq, reason)

    def start(self) -> None:
        """Run the periodic checkpoints in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def stop(self) -> None:
        """Stop the background task (a last checkpoint is not forced: the next start makes it)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        latest = await self._store.latest()
        covered = latest.size if latest else 0
        self._newest_seq = max(self._newest_seq, await self._rows.last_seq())
        loop = asyncio.get_running_loop()
        last_time = loop.time()
        while True:
            due_rows = self._newest_seq - covered >= self._every_rows
            due_time = self._newest_seq > covered and loop.time() - last_time >= self._every_seconds
            if due_rows or due_time:
                record = await self.checkpoint_now()
                # A broken chain is not retried until more rows or another period pass.
                covered = record.size if record is not None else self._newest_seq
                last_time = loop.time()
                continue
            self._wake.clear()
            timeout = max(1.0, self._every_seconds - (loop.time() - last_time))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
