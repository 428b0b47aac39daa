"""Devices that resend their `Initialized` state on every renewal (Quirk REPEAT_INITIALIZED):
current state the driver already reported is not reported again."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.sdk import DeviceEvent, DriverContext
from doorstep.simulator import SimulatedDevice
from doorstep.simulator.profile import Quirk

from .conftest import device_config


def _key(event: DeviceEvent) -> tuple[object, ...]:
    return (event.kind, event.topic, event.source, event.active)


async def test_initial_state_already_known_is_not_reported_again(
    camera: SimulatedDevice, context: DriverContext
) -> None:
    camera.profile.quirks = frozenset({Quirk.REPEAT_INITIALIZED})
    camera.subscriptions.max_lifetime = timedelta(seconds=10)  # a renewal within 8 s
    device = OnvifDevice(device_config(camera, motion_auto_clear_s=0), context)
    await device.connect()
    events: list[DeviceEvent] = []

    async def consume() -> None:
        async for event in device.events():
            events.append(event)

    task = asyncio.create_task(consume())
    try:
        async with asyncio.timeout(30):
            while camera.requests["Renew"] < 1:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the re-sent state arrives with the next pull
            camera.motion(True)  # news still comes through
            while not any(e.active and not e.initial for e in events):
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await device.close()
    initial = [_key(e) for e in events if e.initial]
    assert initial, "the current state was reported once"
    assert len(initial) == len(set(initial)), f"duplicate initial events: {initial}"
    assert {e.kind for e in events if e.active and not e.initial} == {events[0].kind}
