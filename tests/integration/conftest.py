"""The whole gateway against the simulator, over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.app import build_app
from doorstep.gateway.bus.event_bus import Subscription
from doorstep.gateway.config.models import Config
from doorstep.gateway.events import BusEvent, CameraEventReceived, CameraState, CameraStateChanged
from doorstep.gateway.web.keys import BUS, DEVICES
from doorstep.gateway.web.policy import AUTHENTICATOR, Authenticator
from doorstep.sdk import EventKind
from doorstep.simulator import SimulatedDevice

from ..simulator.conftest import media, simulator, simulator_factory  # noqa: F401  # fixtures

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


def camera_entry(device: SimulatedDevice, **overrides: Any) -> dict[str, Any]:
    """A config entry adopting a simulated device through the ONVIF driver."""
    p = device.profile
    entry: dict[str, Any] = {
        "id": p.name, "name": p.name, "driver": "onvif", "host": p.host, "port": p.onvif_port,
        "username": p.username, "password": p.password,
    }  # fmt: skip
    entry.update(overrides)
    return entry


class Gateway:
    """A running gateway app plus a tap on its bus."""

    def __init__(
        self, client: TestClient[web.Request, web.Application], tap: Subscription[BusEvent]
    ) -> None:
        self.client = client
        self.app = client.app
        self.tap = tap

    async def next_event(
        self, timeout: float = 5.0, camera: str | None = None
    ) -> CameraEventReceived:
        while True:
            message = await asyncio.wait_for(self.tap.get(), timeout)
            if isinstance(message, CameraEventReceived) and (
                camera is None or message.camera_id == camera
            ):
                return message

    async def state(
        self, camera: str, wanted: CameraState, timeout: float = 20.0
    ) -> CameraStateChanged:
        supervisor = self.app[DEVICES].supervisors[camera]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while supervisor.state is not wanted:
            if loop.time() > deadline:
                raise AssertionError(
                    f"{camera} is {supervisor.state} ({supervisor.reason}), not {wanted}"
                )
            await asyncio.sleep(0.02)
        return CameraStateChanged(camera, supervisor.state, supervisor.reason, supervisor.info)

    async def drain(self, quiet_s: float = 0.3) -> list[CameraEventReceived]:
        """Collect events until none arrives for `quiet_s` (e.g. the Initialized burst)."""
        drained = []
        while True:
            try:
                drained.append(await self.next_event(quiet_s))
            except TimeoutError:
                return drained


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start_gateway(aiohttp_client: ClientFactory, tmp_path: Path) -> StartGateway:
    """Build and start a gateway for the given cameras/config fields."""

    async def start(
        cameras: list[dict[str, Any]], authenticator: Authenticator | None = None, **fields: Any
    ) -> Gateway:
        config = Config.model_validate(
            # Recording off unless a test asks for it: these gateways test events and adoption,
            # and a recorder per camera only loads the machine (tests/recording records).
            {
                "storage": {"data_dir": tmp_path / "data"},
                "cameras": cameras,
                "recording": {"mode": "off"},
                **fields,
            }
        )
        app = await asyncio.to_thread(build_app, config)
        tap: list[Subscription[BusEvent]] = []

        async def attach(app: web.Application) -> AsyncIterator[None]:
            tap.append(app[BUS].stream("test-tap", (BusEvent,), 100_000))
            yield

        if authenticator is not None:
            app[AUTHENTICATOR] = authenticator
        app.cleanup_ctx.insert(len(app.cleanup_ctx) - 1, attach)  # just before the cameras
        client = await aiohttp_client(app)
        return Gateway(client, tap[0])

    return start


async def press_latencies(
    gateway: Gateway, doorbell: SimulatedDevice, presses: int = 5
) -> list[float]:
    """Press the doorbell `presses` times; seconds from each press to its event on the bus.

    Each press must arrive as a live doorbell 'on' (not a re-sent state) from source 000, and
    be followed by the 'off' the doorbell sends after its hold time.
    """
    latencies = []
    for _ in range(presses):
        pressed = time.perf_counter()
        doorbell.press()
        event = await gateway.next_event()
        latencies.append(time.perf_counter() - pressed)
        e = event.event
        assert (e.kind, e.active, e.initial, e.source) == (EventKind.DOORBELL, True, False, "000")
        released = await gateway.next_event(timeout=doorbell.profile.visitor_hold_s + 3)
        assert (released.event.kind, released.event.active) == (EventKind.DOORBELL, False)
    return latencies
