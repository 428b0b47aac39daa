"""Fixtures for the settings tests: the real gateway on loopback (restartable on the same data
directory), its owner signed in with a fresh password, other roles on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, DATABASE

from ..gateway_client import Client, call
from ..simulator.conftest import media, simulator_factory  # noqa: F401  # fixtures
from ..web.conftest import set_up_owner

CONSOLE = Principal(0, "console", "owner")
PASSWORD = "another long password"


@dataclass
class Gateway:
    """One run of the gateway: its app, its server, a way to open browsers on it."""

    app: web.Application
    server: TestServer
    browser: Callable[[], Awaitable[Client]]

    async def owner(self) -> tuple[Client, pyotp.TOTP]:
        """The first owner, set up through the API (the session has just proved the password)."""
        client = await self.browser()
        return client, await set_up_owner(client)

    async def signed_in(self, name: str, role: str) -> Client:
        """A new account of `role`, signed in."""
        await self.app[ACCOUNTS].create_user(CONSOLE, name, PASSWORD, role, "test")
        client = await self.browser()
        status, _ = await call(
            client, "POST", "/api/session", {"username": name, "password": PASSWORD}
        )
        assert status == 200
        return client

    async def stale(self) -> None:
        """Age every session's proof of password past the re-authentication window."""
        old = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        await self.app[DATABASE].durable.execute("UPDATE sessions SET confirmed_at = ?", (old,))

    async def audited(self) -> list[Any]:
        """The settings changes in the audit log, oldest first."""
        return list(reversed(await self.app[AUDIT].query(action="settings.update")))


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def start_gateway(aiohttp_server: Any, aiohttp_client: Any, data_dir: Path) -> StartGateway:
    """Start the gateway with these config.yaml sections (every run on the same data dir)."""

    async def start(**sections: Any) -> Gateway:
        # Recording off unless a test asks for it (tests/recording records).
        config = Config.model_validate(
            {"storage": {"data_dir": data_dir}, "recording": {"mode": "off"}, **sections}
        )
        app = await asyncio.to_thread(build_app, config)
        server = await aiohttp_server(app)

        async def browser() -> Client:
            client: Client = await aiohttp_client(server)
            return client

        return Gateway(app, server, browser)

    return start


FRONT = {"id": "front", "name": "Front", "driver": "rtsp", "host": "127.0.0.1", "port": 9}
"""A camera the gateway knows (never reached: port 9 is discard), so events can name it."""
