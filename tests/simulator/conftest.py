"""Fixtures for simulator tests: media encoded once per session, a fresh simulator per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from onvif import ONVIFCamera

from doorstep.simulator import SimulatedDevice, Simulator, SimulatorConfig
from doorstep.simulator.library import MediaLibrary

PULLPOINT_NS = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"


@pytest.fixture(scope="session")
def media() -> MediaLibrary:
    """Pre-encoded media shared by every simulator in the session (encoding takes ~1 s)."""
    library = MediaLibrary()
    library.prepare([(640, 360)])
    return library


StartSimulator = Callable[..., AbstractAsyncContextManager[Simulator]]


@pytest.fixture
def simulator_factory(media: MediaLibrary) -> StartSimulator:
    """Start a simulator with the given SimulatorConfig fields (discovery on a free port)."""

    @asynccontextmanager
    async def start(**fields: Any) -> AsyncIterator[Simulator]:
        fields.setdefault("discovery_port", 0)
        simulator = Simulator(SimulatorConfig(**fields), media)
        await simulator.start()
        try:
            yield simulator
        finally:
            await simulator.stop()

    return start


@pytest.fixture
async def simulator(simulator_factory: StartSimulator) -> AsyncIterator[Simulator]:
    """One doorbell and one camera."""
    async with simulator_factory(cameras=1, doorbells=1) as running:
        yield running


@pytest.fixture
def doorbell(simulator: Simulator) -> SimulatedDevice:
    return simulator.devices["doorbell-1"]


@pytest.fixture
def camera(simulator: Simulator) -> SimulatedDevice:
    return simulator.devices["camera-1"]


@asynccontextmanager
async def onvif_client(
    device: SimulatedDevice, password: str | None = None, adjust_time: bool = False
) -> AsyncIterator[ONVIFCamera]:
    """The real onvif-zeep-async client pointed at a simulated device."""
    client = ONVIFCamera(
        device.profile.host,
        device.profile.onvif_port,
        device.profile.username,
        device.profile.password if password is None else password,
        adjust_time=adjust_time,
    )
    try:
        yield client
    finally:
        await client.close()
