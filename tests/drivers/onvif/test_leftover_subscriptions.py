"""A run that ended without unsubscribing (a crash, a power cut) leaves its subscription on the
camera; the next start frees it before subscribing, so slots are not stranded."""

from __future__ import annotations

from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.sdk import DriverContext
from doorstep.simulator import SimulatedDevice

from .conftest import device_config


async def test_the_next_start_unsubscribes_what_a_crashed_run_left(
    camera: SimulatedDevice, context: DriverContext
) -> None:
    crashed = OnvifDevice(device_config(camera, events="pullpoint"), context)
    await crashed.connect()
    assert camera.subscriptions.count == 1
    await crashed.session.close()  # the process dies: no Unsubscribe, no close()

    restarted = OnvifDevice(device_config(camera, events="pullpoint"), context)
    try:
        await restarted.connect()
        assert camera.requests["Unsubscribe"] == 1
        assert camera.subscriptions.count == 1  # its own; the crashed run's slot is free
    finally:
        await restarted.close()
    assert camera.subscriptions.count == 0
    assert not list(context.data_dir.iterdir())  # a clean close leaves no ledger behind


async def test_a_clean_close_leaves_nothing_to_free(
    camera: SimulatedDevice, context: DriverContext
) -> None:
    first = OnvifDevice(device_config(camera), context)
    await first.connect()
    await first.close()
    second = OnvifDevice(device_config(camera), context)
    try:
        await second.connect()
    finally:
        await second.close()
    assert camera.requests["Unsubscribe"] == 2  # one per close, none for leftovers
