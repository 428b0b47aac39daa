"""What every hostile-camera test checks: memory, the other cameras' events, the log's length."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from doorstep.gateway.storage import EventRepository
from doorstep.gateway.web.keys import BUS, DATABASE
from doorstep.sdk import EventKind
from doorstep.simulator import SimulatedDevice

from .conftest import Gateway

PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def rss_mib() -> float:
    """This process's resident memory now (gateway and simulator share it in these tests)."""
    resident = Path("/proc/self/statm").read_text().split()[1]
    return int(resident) * PAGE_MIB


class RssSampler:
    """Peak resident memory above the level at the start, sampled every 20 ms."""

    def __init__(self) -> None:
        self.baseline = rss_mib()
        self.peak = self.baseline

    @property
    def grown_mib(self) -> float:
        """How far the peak rose above the baseline."""
        return self.peak - self.baseline

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mib())
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def sampled_rss() -> AsyncIterator[RssSampler]:
    """Sample RSS for the duration of the block."""
    sampler = RssSampler()
    task = asyncio.create_task(sampler._run())
    try:
        yield sampler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sampler.peak = max(sampler.peak, rss_mib())


async def send_motion(camera: SimulatedDevice, count: int = 12, interval_s: float = 0.1) -> None:
    """`count` motion events from `camera` (on, off, on, …), `interval_s` apart."""
    for n in range(count):
        assert camera.set_property("motion", n % 2 == 0)
        await asyncio.sleep(interval_s)


async def history_settled(gateway: Gateway, timeout: float = 60.0) -> None:
    """Wait until the history subscriber has written everything queued for it."""
    bus = gateway.app[BUS]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 5:  # queue empty on five samples in a row: the handler has caught up too
        history = next(s for s in bus.stats() if s.name == "history")
        quiet = quiet + 1 if history.queued == 0 else 0
        if loop.time() > deadline:
            raise AssertionError(f"history still has {history.queued} events queued")
        await asyncio.sleep(0.05)


async def stored_motion(gateway: Gateway, camera_id: str) -> int:
    """Live (not Initialized) motion events of `camera_id` in the history database."""
    events = EventRepository(gateway.app[DATABASE].standard)
    records = await events.recent([camera_id], limit=1000, kinds={EventKind.MOTION.value})
    return sum(not r.initial for r in records)
