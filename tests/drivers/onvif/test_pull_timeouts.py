"""PullMessages against a device that reads whole seconds of `Timeout` only (Quirk
WHOLE_SECOND_TIMEOUTS): the driver must long-poll, not busy-loop."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.sdk import DriverContext
from doorstep.simulator import SimulatedDevice, event_service
from doorstep.simulator.profile import Quirk

from .conftest import device_config

WINDOW_S = 6.0
GRANTED = timedelta(seconds=12)
"""What the device grants whatever is asked (one real device grants 60 s): the renewal comes
within seconds, which is when the driver's waits have fractions."""


async def _wait_for_pulls(camera: SimulatedDevice, count: int) -> None:
    async with asyncio.timeout(20):
        while camera.requests["PullMessages"] < count:
            await asyncio.sleep(0.02)


@pytest.mark.parametrize(("auto_clear_s", "most_pulls"), [(0, 2), (10, 3)])
async def test_a_whole_second_device_gets_at_most_one_pull_per_wait_period(
    camera: SimulatedDevice, context: DriverContext, auto_clear_s: float, most_pulls: int
) -> None:
    # Without auto-clear the driver waits for the renewal (~9.6 s off); with a 10 s auto-clear
    # it wakes every 2.5 s. In a 6 s window that is at most 1 (+ the one under way) or 3 pulls.
    camera.profile.quirks = frozenset({Quirk.WHOLE_SECOND_TIMEOUTS})
    camera.subscriptions.max_lifetime = GRANTED
    device = OnvifDevice(device_config(camera, motion_auto_clear_s=auto_clear_s), context)
    await device.connect()

    async def consume() -> None:
        async for _ in device.events():
            pass

    task = asyncio.create_task(consume())
    try:
        await _wait_for_pulls(camera, 2)  # the first pull collects the Initialized burst
        before = camera.requests["PullMessages"]
        await asyncio.sleep(WINDOW_S)
        pulls = camera.requests["PullMessages"] - before
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await device.close()
    assert pulls <= most_pulls, f"{pulls} PullMessages in {WINDOW_S:.0f} s"


async def test_pulls_that_come_back_early_and_empty_are_backed_off(
    camera: SimulatedDevice, context: DriverContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A device that ignores the timeout altogether: every PullMessages is answered at once.
    monkeypatch.setattr(event_service, "MAX_PULL_TIMEOUT", timedelta())
    device = OnvifDevice(device_config(camera, motion_auto_clear_s=0), context)
    await device.connect()

    async def consume() -> None:
        async for _ in device.events():
            pass

    task = asyncio.create_task(consume())
    try:
        await _wait_for_pulls(camera, 2)
        before = camera.requests["PullMessages"]
        await asyncio.sleep(4.0)
        pulls = camera.requests["PullMessages"] - before
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await device.close()
    assert pulls <= 6, f"{pulls} PullMessages in 4 s"  # pauses of 0.5, 1, 2 … s


async def test_the_event_feed_stops_even_when_a_pull_swallows_the_cancel(
    camera: SimulatedDevice, context: DriverContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3.11's `wait_for` returns the result instead of raising when the cancel lands as the
    PullMessages answer arrives; the feed must stop all the same (it hung a test under load)."""
    device = OnvifDevice(device_config(camera, motion_auto_clear_s=0), context)
    await device.connect()
    pulling = asyncio.Event()

    async def swallowing_pull(self: object, wait: timedelta, limit: int = 100) -> list[object]:
        pulling.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        return []

    monkeypatch.setattr("doorstep.drivers.onvif.session.OnvifSession.pull", swallowing_pull)

    async def consume() -> None:
        async for _ in device.events():
            pass

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(pulling.wait(), 20)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert task in done, "the event feed kept pulling after it was cancelled"
    finally:
        task.cancel()
        await device.close()
