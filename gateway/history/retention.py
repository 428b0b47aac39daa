"""Event retention: events older than `retention.event_days` are deleted, shortly after the
start, every hour, and at once when the owner changes the time.

Deletion goes in batches of BATCH_ROWS, one statement each, with a pause between them: the
database's writer is never held for long, so events arriving meanwhile are stored without
waiting behind a year of history being deleted (the statements run in the driver's thread, not
on the event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from doorstep.gateway.storage import EventRepository, StorageError

_log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
FIRST_PRUNE_S = 30.0
"""After the start, when the cameras' first states have been written."""
BATCH_ROWS = 500
BATCH_PAUSE_S = 0.05


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EventRetention:
    """Deletes events older than the retention time, in batches, in the background."""

    def __init__(
        self,
        events: EventRepository,
        days: int,
        *,
        every_s: float = PRUNE_EVERY_S,
        first_s: float = FIRST_PRUNE_S,
        batch_rows: int = BATCH_ROWS,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._events = events
        self.days = days
        self._every_s = every_s
        self._first_s = first_s
        self._batch_rows = batch_rows
        self._now = now
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.deleted = 0
        """Events deleted since the start."""
        self.batches = 0
        """Delete statements run since the start."""
        self.last_pruned: datetime | None = None

    def start(self) -> None:
        """Prune in the background from now on."""
        self._task = asyncio.create_task(self._run(), name="event-retention")

    async def stop(self) -> None:
        """Stop pruning (a batch under way is left to finish in the database)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def set_days(self, days: int) -> None:
        """A new retention time: applied at once."""
        self.days = days
        self._wake.set()

    async def prune(self) -> int:
        """Delete every event older than the retention time; returns how many."""
        cutoff = self._now() - timedelta(days=self.days)
        total = 0
        while True:
            deleted = await self._events.delete_older_than(cutoff, limit=self._batch_rows)
            self.batches += 1
            total += deleted
            if deleted < self._batch_rows:
                break
            await asyncio.sleep(BATCH_PAUSE_S)  # let waiting writers in between batches
        self.deleted += total
        self.last_pruned = self._now()
        if total:
            _log.info("deleted %d event(s) older than %d day(s)", total, self.days)
        return total

    async def _run(self) -> None:
        delay = self._first_s
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.clear()
            delay = self._every_s
            try:
                await self.prune()
            except StorageError as exc:
                _log.warning("event retention: cannot delete old events now (%s)", exc)
