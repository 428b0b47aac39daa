"""ONVIF driver tests talk to the simulator: its fixtures, and a driver context to use them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from doorstep.sdk import DeviceConfig, DriverContext
from doorstep.simulator import SimulatedDevice

from ...simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[DriverContext]:
    """A driver context with its own HTTP session and the driver's logger."""
    async with aiohttp.ClientSession() as http:
        yield DriverContext(http, logging.getLogger("doorstep.drivers.onvif"), tmp_path)


def device_config(device: SimulatedDevice, **options: str | int | float | bool) -> DeviceConfig:
    """The driver's configuration for a simulated device."""
    return DeviceConfig(
        id=device.profile.name,
        host=device.profile.host,
        port=device.profile.onvif_port,
        username=device.profile.username,
        password=device.profile.password,
        options=options,
    )
