"""Fault tests use the simulator's fixtures, and count what the process holds open."""

from __future__ import annotations

import asyncio
import os

from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401


def open_fds() -> int:
    """File descriptors this process holds (sockets included)."""
    return len(os.listdir("/proc/self/fd"))


def live_tasks() -> int:
    """asyncio tasks not yet finished (the calling test's own included)."""
    return sum(not task.done() for task in asyncio.all_tasks())


async def settle(baseline: tuple[int, int], timeout: float = 10.0) -> tuple[int, int]:
    """Wait until (tasks, fds) fall back to `baseline` or the timeout passes; returns them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = (live_tasks(), open_fds())
        if (now[0] <= baseline[0] and now[1] <= baseline[1]) or loop.time() > deadline:
            return now
        await asyncio.sleep(0.1)
