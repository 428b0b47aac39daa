"""Helpers for the camera settings tests: callers by role, and reading the gateway's bus."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from doorstep.gateway.bus.event_bus import Subscription
from doorstep.gateway.events import BusEvent
from doorstep.gateway.web.policy import Principal

from ..gateway_client import SAME_ORIGIN
from ..integration.conftest import Gateway

PRINCIPALS = {
    "owner": Principal(1, "olga", "owner"),
    "resident": Principal(2, "rosa", "resident", cameras=frozenset({"camera-1", "doorbell-1"})),
    "neighbour": Principal(3, "ned", "neighbour", cameras=frozenset()),
}


async def by_header(request: web.Request) -> Principal | None:
    """Stand-in for sign-in: the caller is whoever the X-Test-As header names (the owner)."""
    return PRINCIPALS.get(request.headers.get("X-Test-As", "owner"))


async def patch(
    gateway: Gateway, camera_id: str, body: Any, as_role: str = "owner"
) -> tuple[int, Any]:
    """PATCH /api/cameras/{camera_id} as a role: (status, JSON body)."""
    headers = {**SAME_ORIGIN, "X-Test-As": as_role}
    async with gateway.client.patch(
        f"/api/cameras/{camera_id}", json=body, headers=headers
    ) as response:
        return response.status, await response.json()


async def get(gateway: Gateway, path: str, as_role: str = "owner") -> tuple[int, Any]:
    """GET an API path as a role: (status, JSON body)."""
    headers = {**SAME_ORIGIN, "X-Test-As": as_role}
    async with gateway.client.get(path, headers=headers) as response:
        return response.status, await response.json()


async def collect(tap: Subscription[BusEvent], quiet_s: float = 1.0) -> list[BusEvent]:
    """Everything on the bus until it has been quiet for `quiet_s`."""
    seen: list[BusEvent] = []
    while True:
        try:
            seen.append(await asyncio.wait_for(tap.get(), quiet_s))
        except TimeoutError:
            return seen
