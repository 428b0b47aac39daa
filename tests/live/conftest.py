"""Live-view API tests run against the simulator: a gateway with the doorbell as `front`, a
resident granted it (rita) and one without (nina), and aiortc viewers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.web.keys import ACCOUNTS
from doorstep.simulator import Simulator

from ..gateway_client import SAME_ORIGIN, Client, doorbell_config, until_online
from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401

PASSWORD = "resident password"  # a test account


@pytest.fixture
async def app(simulator: Simulator, tmp_path: Path) -> web.Application:  # noqa: F811
    config = doorbell_config(simulator, tmp_path / "data")
    app: web.Application = await asyncio.to_thread(build_app, config)
    return app


@pytest.fixture
async def server(app: web.Application, aiohttp_server: Any) -> Any:
    running = await aiohttp_server(app)  # set up after the simulator: stops before it
    console = Principal(0, "console", "owner")
    accounts = app[ACCOUNTS]
    rita = await accounts.create_user(console, "rita", PASSWORD, "resident", "test")
    await accounts.update_user(console, rita.id, None, None, {"front"}, "test")
    await accounts.create_user(console, "nina", PASSWORD, "resident", "test")  # no camera
    await until_online(app, "front")
    return running


async def signed_in(aiohttp_client: Any, server: Any, username: str) -> Client:
    client: Client = await aiohttp_client(server)
    async with client.post(
        "/api/session", json={"username": username, "password": PASSWORD}, headers=SAME_ORIGIN
    ) as response:
        assert response.status == 200, await response.text()
    return client


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    """Viewer peer connections, closed after the test."""
    made: list[RTCPeerConnection] = []
    yield made
    for pc in made:
        await pc.close()


async def offer(peers: list[RTCPeerConnection]) -> tuple[RTCPeerConnection, str]:
    """A viewer's complete offer: video and audio to receive, as the page makes it."""
    pc = RTCPeerConnection()
    peers.append(pc)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp
