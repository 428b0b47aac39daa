"""A camera's stream failure is part of its state in the API, and an adopted camera can be
allowed RTSP Basic knowingly (stored with it, kept across restarts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.auth import Principal
from doorstep.gateway.events import CameraState
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.gateway.web.keys import DEVICES, STREAMS
from doorstep.simulator import SimulatedDevice, Simulator

from ..integration.conftest import Gateway, StartGateway, start_gateway  # noqa: F401
from ..simulator.conftest import StartSimulator
from .probes import FrameCounter, wait_until

OWNER = Principal(1, "owner", "owner")


async def owner(request: web.Request) -> Principal | None:
    """Every caller is the owner (sign-in is tested elsewhere)."""
    return OWNER


@pytest.fixture
async def basic_cameras(simulator_factory: StartSimulator) -> AsyncIterator[Simulator]:
    """Two cameras whose RTSP servers ask for Basic authentication."""
    async with simulator_factory(cameras=2, doorbells=0) as running:
        for device in running.devices.values():
            device.rtsp_settings.auth_scheme = "basic"
        yield running


def adopt_body(device: SimulatedDevice, name: str, **extra: Any) -> dict[str, Any]:
    p = device.profile
    return {"host": p.host, "port": p.onvif_port, "username": p.username,
            "password": p.password, "name": name, **extra}  # fmt: skip


def watch(gateway: Gateway, camera_id: str) -> FrameCounter:
    """A viewer of the camera's main stream, opened the way live view opens it."""
    supervisor = gateway.app[DEVICES].supervisors[camera_id]

    def target() -> StreamTarget:
        main = supervisor.streams[0]
        password = main.password.get_secret_value() if main.password else None
        return StreamTarget(main.url, main.username, password, supervisor.rtsp_allow_basic)

    return FrameCounter(gateway.app[STREAMS].stream(f"{camera_id}/main", target).consume())


async def camera_view(gateway: Gateway, camera_id: str) -> dict[str, Any]:
    response = await gateway.client.get("/api/cameras")
    assert response.status == 200
    cameras: list[dict[str, Any]] = (await response.json())["cameras"]
    return next(c for c in cameras if c["id"] == camera_id)


async def test_the_api_says_why_the_stream_failed_and_basic_can_be_allowed(
    basic_cameras: Simulator,
    start_gateway: StartGateway,  # noqa: F811
) -> None:
    refused, allowed = basic_cameras.devices["camera-1"], basic_cameras.devices["camera-2"]
    gateway = await start_gateway([], owner)
    for body in (adopt_body(refused, "Porch"), adopt_body(allowed, "Yard", rtsp_allow_basic=True)):
        response = await gateway.client.post("/api/cameras", json=body)
        assert response.status == 201, await response.text()
    await gateway.state("porch", CameraState.ONLINE)
    await gateway.state("yard", CameraState.ONLINE)
    assert (await camera_view(gateway, "porch"))["stream_error"] is None  # not tried yet
    async with watch(gateway, "porch") as porch, watch(gateway, "yard") as yard:
        assert await wait_until(lambda: yard.count >= 5, 30)
        stream = gateway.app[STREAMS].get("porch/main")
        assert stream is not None
        assert await wait_until(lambda: stream.failures >= 1, 30)
        assert porch.count == 0
    porch_view = await camera_view(gateway, "porch")
    print(f"porch stream_error: {porch_view['stream_error']!r}")
    assert "Basic" in porch_view["stream_error"]
    assert "rtsp_allow_basic" in porch_view["stream_error"]
    assert refused.profile.password not in porch_view["stream_error"]
    assert porch_view["state"] == "online"  # ONVIF is fine; only the stream is refused
    assert (await camera_view(gateway, "yard"))["stream_error"] is None
    assert refused.rtsp_settings.auth_scheme == "basic"


async def test_the_adopted_basic_option_survives_a_restart(
    basic_cameras: Simulator,
    start_gateway: StartGateway,  # noqa: F811
) -> None:
    device = basic_cameras.devices["camera-1"]
    first = await start_gateway([], owner)
    body = adopt_body(device, "Yard", rtsp_allow_basic=True)
    assert (await first.client.post("/api/cameras", json=body)).status == 201
    body = adopt_body(basic_cameras.devices["camera-2"], "Porch")
    assert (await first.client.post("/api/cameras", json=body)).status == 201
    await first.client.close()
    second = await start_gateway([], owner)  # same data dir: adopted cameras come from the DB
    await second.state("yard", CameraState.ONLINE)
    supervisors = second.app[DEVICES].supervisors
    assert supervisors["yard"].rtsp_allow_basic is True
    assert supervisors["porch"].rtsp_allow_basic is False
    assert supervisors["yard"].config.options == {}  # not handed to the driver as an option
    async with watch(second, "yard") as yard:
        assert await wait_until(lambda: yard.count >= 5, 30)


async def test_rtsp_allow_basic_must_be_a_boolean(
    basic_cameras: Simulator,
    start_gateway: StartGateway,  # noqa: F811
) -> None:
    gateway = await start_gateway([], owner)
    body = adopt_body(basic_cameras.devices["camera-1"], "Yard", rtsp_allow_basic="yes please")
    response = await gateway.client.post("/api/cameras", json=body)
    assert response.status == 422
