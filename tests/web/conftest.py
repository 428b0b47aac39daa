"""Fixtures for the web tests: a gateway app with two known cameras, browsers, the first owner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import pytest
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import ACCOUNTS

from ..gateway_client import SAME_ORIGIN, Client, call

OWNER_PASSWORD = "correct horse battery"


# Two cameras the gateway knows (RTSP, never connected to: port 9 is discard), so grants can
# name them; grants of cameras that do not exist are refused.
CAMERAS = [
    {"id": camera, "name": camera.title(), "driver": "rtsp", "host": "127.0.0.1", "port": 9}
    for camera in ("garden", "front")
]


@pytest.fixture
async def app(tmp_path: Path) -> web.Application:
    config = Config.model_validate({"storage": {"data_dir": tmp_path / "data"}, "cameras": CAMERAS})
    return await asyncio.to_thread(build_app, config)


@pytest.fixture
async def browser(
    aiohttp_server: Any, aiohttp_client: Any, app: web.Application
) -> Callable[[], Awaitable[Client]]:
    """A new browser (its own cookie jar) against one running gateway."""
    server = await aiohttp_server(app)

    async def new() -> Client:
        client: Client = await aiohttp_client(server)
        return client

    return new


async def set_up_owner(client: Client) -> pyotp.TOTP:
    """First run through the API, including the owner's required second factor."""
    token = client.app[ACCOUNTS].setup_token
    assert token
    status, me = await call(
        client,
        "POST",
        "/api/setup",
        {"token": token, "username": "alice", "password": OWNER_PASSWORD},
    )
    assert status == 201
    assert me["must_enroll_totp"] is True
    status, started = await call(client, "POST", "/api/me/totp")
    assert status == 200
    otp = pyotp.TOTP(started["secret"])
    status, _ = await call(client, "POST", "/api/me/totp/confirm", {"code": otp.now()})
    assert status == 200
    return otp


def from_address(url: str, address: str) -> aiohttp.ClientSession:
    """A client whose connections come from another loopback address (127.0.0.0/8 is all ours),
    so tests can be several machines of the LAN at once."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True, limit=0)
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for an IP address host
    return aiohttp.ClientSession(url, connector=connector, headers=SAME_ORIGIN, cookie_jar=jar)


async def post_json(session: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    """POST JSON as the page does; (status, JSON body or None)."""
    async with session.post(path, json=body) as response:
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data
