"""An unknown topic is logged once per process, with its payload: not per camera, not per
reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import pytest

from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.sdk import DriverContext
from doorstep.simulator import SimulatedDevice, Simulator
from doorstep.simulator.eventing import EventProperty

from .conftest import device_config


async def _first_events(device: OnvifDevice) -> None:
    """Connect, take the Initialized burst, close (as a reconnect would)."""
    await device.connect()
    seen: list[object] = []

    async def consume() -> None:
        async for event in device.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    try:
        async with asyncio.timeout(20):
            while len(seen) < 2:  # the burst is in one pull: all of it is read by then
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await device.close()


async def test_an_unknown_topic_is_logged_once_per_process(
    simulator: Simulator, context: DriverContext, caplog: pytest.LogCaptureFixture
) -> None:
    topic = f"tns1:Vendor/Sample{uuid.uuid4().hex[:8]}/Thing"
    devices: list[SimulatedDevice] = list(simulator.devices.values())
    for sim in devices:
        sim.properties["vendor"] = EventProperty(topic, (("Source", "1"),), "State")
    with caplog.at_level(logging.INFO, logger="doorstep.drivers.onvif"):
        for sim in devices:  # two cameras …
            for _ in range(2):  # … each reconnecting once
                await _first_events(OnvifDevice(device_config(sim, motion_auto_clear_s=0), context))
    logged = [r for r in caplog.records if "unknown event topic" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage()[:120] for r in logged]
    assert topic in logged[0].getMessage()
