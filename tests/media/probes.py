"""What hostile-camera tests measure: peak RSS, a normal camera's frame rate, log lines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import pytest

from doorstep.gateway.media.consumer import Consumer
from doorstep.gateway.media.upstream import HubClock
from doorstep.simulator import SimulatedDevice

MIB = 1024 * 1024


def rss_bytes() -> int:
    """This process's resident set size (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class RssSampler:
    """Samples RSS from a thread every 20 ms (a busy event loop cannot make it miss a peak)."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.baseline = rss_bytes()
        self.peak = self.baseline
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    @property
    def growth_mib(self) -> float:
        """Peak minus the RSS at the start, in MiB."""
        return (self.peak - self.baseline) / MIB

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


class FrameCounter:
    """Reads a consumer in the background and counts the access units it got."""

    def __init__(self, consumer: Consumer, delay_s: float = 0.0) -> None:
        self.consumer = consumer
        self.count = 0
        self.keyframes = 0
        self._delay = delay_s
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for unit in self.consumer:
            self.count += 1
            self.keyframes += unit.keyframe
            if self._delay:
                await asyncio.sleep(self._delay)  # a viewer that reads in real time

    async def __aenter__(self) -> FrameCounter:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop reading and release the consumer."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.consumer.close()


async def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll until `predicate()` is true; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())


def gateway_lines(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[str]:
    """Log lines the gateway wrote at `level` or above (the simulator's own are left out)."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= level
        and record.name.startswith("doorstep.gateway")
        and not record.name.startswith("doorstep.simulator")
    ]


def device_rate(device: SimulatedDevice) -> int:
    """Frames per second the simulated device's main stream runs at."""
    return device.rtsp_settings.loops["/stream/main"].fps


class StepClock:
    """The hub's waits for tests: each returns at once and is recorded, so a test asserts the
    backoff and the linger, not how long they took. Sessions still run on real time (their
    silence and health checks measure a real camera)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.on_wait: Callable[[], None] | None = None
        """Called at each wait: a test samples the stream's state while it is down."""

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.on_wait is not None:
            self.on_wait()
        await asyncio.sleep(0.01)  # a real turn of the loop: the stream's peers get to run

    def hub_clock(self) -> HubClock:
        """As the hub takes it, with no jitter (each wait is the full backoff)."""
        return HubClock(sleep=self.sleep, jitter=lambda: 1.0)
