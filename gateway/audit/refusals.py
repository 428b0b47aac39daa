"""Audits refused attempts (failed and throttled sign-ins, denied requests) without letting
anyone fill the disk: one row per address, action and minute, with a count.

Each audit row is an fsync'd append to a table nothing may delete from, so one row per refusal
let a single anonymous address write 250 rows a second (~11 GB a day). Refusals are counted in
memory and written once per window; the number of rows a window can produce is capped whatever
the number of addresses, so the write rate stays bounded under any anonymous load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from doorstep.gateway.audit.log import AuditLog

_log = logging.getLogger(__name__)

WINDOW_S = 60.0
MAX_KEYS_PER_WINDOW = 100
"""Addresses beyond this in one window share one row (address `*`)."""
MAX_ACTORS = 5
"""User names kept per row (the ones tried first); the rest are only counted."""


@dataclass(slots=True)
class _Tally:
    count: int = 0
    first: str = ""
    last: str = ""
    actors: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RefusalAudit:
    """Counts refusals per (address, action, outcome) and writes them as one row per window."""

    def __init__(
        self,
        audit: AuditLog,
        window_s: float = WINDOW_S,
        max_keys: int = MAX_KEYS_PER_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._audit = audit
        self._window_s = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._sleep = sleep  # with `clock`, a test's: windows pass when the test says so
        self._tallies: dict[tuple[str, str, str], _Tally] = {}
        self._window_start = clock()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.rows_written = 0

    def record(
        self, actor: str, action: str, outcome: str, ip: str, target: str = "", status: str = ""
    ) -> None:
        """Count one refusal (no await, no I/O: it can be called at any rate)."""
        key = (ip, action, outcome)
        tally = self._tallies.get(key)
        if tally is None:
            if len(self._tallies) >= self._max_keys:
                key = ("*", action, outcome)
                tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = _Tally(first=_now_text())
        tally.count += 1
        tally.last = _now_text()
        actor = actor[:64]
        if actor not in tally.actors and len(tally.actors) < MAX_ACTORS:
            tally.actors.append(actor)
        target = target[:200]
        if target and target not in tally.targets and len(tally.targets) < MAX_ACTORS:
            tally.targets.append(target)
        if status:
            tally.statuses[status] = tally.statuses.get(status, 0) + 1

    @property
    def pending(self) -> int:
        """Refusals counted but not yet written."""
        return sum(t.count for t in self._tallies.values())

    def start(self) -> None:
        """Write each window's rows as it ends."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-refusals")

    async def _run(self) -> None:
        while True:
            await self._sleep(max(0.0, self._window_start + self._window_s - self._clock()))
            try:
                await self.flush()
            except Exception as exc:  # a failed write must not end the counting
                _log.error("audit of refusals failed: %s", type(exc).__name__)

    async def flush(self) -> int:
        """Write what was counted so far (one row per key) and start a new window."""
        async with self._lock:
            tallies, self._tallies = self._tallies, {}
            self._window_start = self._clock()
            for (ip, action, outcome), tally in tallies.items():
                detail: dict[str, object] = {
                    "count": tally.count, "first": tally.first, "last": tally.last,
                    "tried": tally.actors,
                }  # fmt: skip
                if tally.statuses:
                    detail["status"] = tally.statuses
                if len(tally.targets) > 1:
                    detail["targets"] = tally.targets
                actor = tally.actors[0] if len(tally.actors) == 1 else "anonymous"
                target = tally.targets[0] if tally.targets else ""
                await self._audit.append(actor, action, target, outcome, ip, detail)
                self.rows_written += 1
            return len(tallies)

    async def close(self) -> None:
        """Stop the timer and write what is left (shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
