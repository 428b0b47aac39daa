"""A clock for ring tests: time moves only when the test says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from doorstep.gateway.ringing import RingClock

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic and wall time that `advance()` moves; sleepers wake when their time comes."""

    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.t + seconds, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    @property
    def sleepers(self) -> int:
        """Tasks asleep on this clock."""
        return len(self._sleepers)

    async def advance(self, seconds: float) -> None:
        """Move time on, wake whoever is due (in the order they went to sleep), let them run."""
        self.t += seconds
        for deadline, future in list(self._sleepers):
            if deadline <= self.t and not future.done():
                future.set_result(None)
        for _ in range(10):
            await asyncio.sleep(0)

    def ring_clock(self) -> RingClock:
        """This clock as the ring tracker takes it."""
        return RingClock(now=self.now, wall=self.wall, sleep=self.sleep)
