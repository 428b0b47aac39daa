"""Shutdown fits its budget with several cameras and viewers, even when every camera is slow
to end its session: the streams' teardowns (and the calls) run side by side, not in a row."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

from doorstep.gateway.app import SHUTDOWN_BUDGET_S, build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import ACCOUNTS, LIVE, STREAMS
from doorstep.simulator import Simulator

from ..faults.proxy import FaultProxy
from ..gateway_client import call, until_online
from ..media.probes import wait_until
from ..simulator.conftest import StartSimulator
from .conftest import PASSWORD, offer, signed_in

CAMERAS = 4


@pytest.fixture
async def cameras(simulator_factory: StartSimulator) -> AsyncIterator[Simulator]:
    async with simulator_factory(cameras=CAMERAS, doorbells=0) as running:
        yield running


@pytest.fixture
async def proxies(cameras: Simulator) -> AsyncIterator[list[FaultProxy]]:
    """One proxy in front of each camera's RTSP port; the cameras advertise the proxy's."""
    made = []
    for device in cameras.devices.values():
        proxy = FaultProxy("127.0.0.1", device.profile.rtsp_port)
        device.advertised_rtsp_port = await proxy.start()
        made.append(proxy)
    yield made
    for proxy in made:
        await proxy.stop()


@pytest.fixture
async def gateway(
    cameras: Simulator, proxies: list[FaultProxy], tmp_path: Path, aiohttp_server: Any
) -> Any:
    profiles = [d.profile for d in cameras.devices.values()]
    config = Config.model_validate({
        "storage": {"data_dir": tmp_path / "data"},
        "live": {"host_addresses": ["127.0.0.1"]},
        "cameras": [{"id": f"cam{i}", "name": f"Cam {i}", "host": p.host, "port": p.onvif_port,
                     "username": p.username, "password": p.password}
                    for i, p in enumerate(profiles, 1)],
    })  # fmt: skip
    app: web.Application = await asyncio.to_thread(build_app, config)
    server = await aiohttp_server(app)
    console = Principal(0, "console", "owner")
    everything = {f"cam{i}" for i in range(1, CAMERAS + 1)}
    for name in ("rita", "nina"):
        user = await app[ACCOUNTS].create_user(console, name, PASSWORD, "resident", "test")
        await app[ACCOUNTS].update_user(console, user.id, None, None, everything, "test")
    for camera_id in sorted(everything):
        await until_online(app, camera_id)
    return server


async def test_shutdown_fits_its_budget_when_every_camera_is_slow_to_tear_down(
    aiohttp_client: Any,
    gateway: Any,
    proxies: list[FaultProxy],
    peers: list[RTCPeerConnection],
) -> None:
    app: web.Application = gateway.app
    rita = await signed_in(aiohttp_client, gateway, "rita")
    nina = await signed_in(aiohttp_client, gateway, "nina")
    calls = [(rita, f"cam{i}") for i in range(1, CAMERAS + 1)] + [(nina, "cam1"), (nina, "cam2")]
    for client, camera_id in calls:
        pc, sdp = await offer(peers)
        status, answer = await call(client, "POST", f"/api/live/{camera_id}", {"sdp": sdp})
        assert status == 201, answer
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    sessions = list(app[LIVE].sessions.values())
    assert len(sessions) == len(calls)
    assert await wait_until(lambda: all(s.track.frames > 0 for s in sessions), 30)
    streams = [app[STREAMS].get(f"cam{i}/main") for i in range(1, CAMERAS + 1)]
    assert all(s is not None and s.sessions_opened == 1 for s in streams)
    for proxy in proxies:
        proxy.blackhole()  # from now on no camera answers anything, TEARDOWN included

    started = time.monotonic()
    await gateway.close()  # the gateway's cleanup, as `doorstep run` waits for it
    took = time.monotonic() - started
    print(f"shutdown with {CAMERAS} cameras, {len(calls)} viewers: {took:.2f} s")
    assert took >= 1.5  # it did wait on the unanswered TEARDOWNs (2 s each)...
    assert took < SHUTDOWN_BUDGET_S  # ...side by side: one after another would take 8 s
    assert app[LIVE].sessions == {}
    assert {s.pc.connectionState for s in sessions} == {"closed"}
