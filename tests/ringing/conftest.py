"""Ring tests run against the live tests' gateway (the simulated doorbell as `front`): rita
and rosa are granted it, nina is not."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.auth import Principal
from doorstep.gateway.web.keys import ACCOUNTS

from ..live.conftest import PASSWORD, app, peers, server  # noqa: F401
from ..simulator.conftest import camera, doorbell, media, simulator, simulator_factory  # noqa: F401


@pytest.fixture
async def household(server: Any, app: web.Application) -> Any:  # noqa: F811
    """The gateway with a second resident granted the doorbell (rosa)."""
    console = Principal(0, "console", "owner")
    accounts = app[ACCOUNTS]
    rosa = await accounts.create_user(console, "rosa", PASSWORD, "resident", "test")
    await accounts.update_user(console, rosa.id, None, None, {"front"}, "test")
    return server
