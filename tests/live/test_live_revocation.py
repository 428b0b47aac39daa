"""A live call ends within a second of its access ending, whichever way it ends (issue 11,
hole 2), with an aiortc viewer on the simulated doorbell."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection

from doorstep.gateway.auth import Principal
from doorstep.gateway.web.keys import ACCOUNTS, LIVE

from ..gateway_client import Client, call
from .conftest import PASSWORD, offer, signed_in

CONSOLE = Principal(0, "console", "owner")
WITHIN_S = 1.0

Ending = Callable[[web.Application, Client, int], Awaitable[None]]


async def _sign_out(app: web.Application, client: Client, user_id: int) -> None:
    assert (await call(client, "DELETE", "/api/session"))[0] == 200


async def _disable(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].update_user(CONSOLE, user_id, None, True, None, "test")


async def _delete(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].delete_user(CONSOLE, user_id, "test")


async def _demote(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].update_user(CONSOLE, user_id, "neighbour", None, None, "test")


async def _withdraw(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].update_user(CONSOLE, user_id, None, None, set(), "test")


async def _password(app: web.Application, client: Client, user_id: int) -> None:
    principal = Principal(user_id, "rita", "resident", session="another session")
    await app[ACCOUNTS].change_password(principal, PASSWORD, "a brand new password", "test")


ENDINGS: dict[str, Ending] = {
    "sign-out": _sign_out, "disabled": _disable, "deleted": _delete, "role change": _demote,
    "grant withdrawn": _withdraw, "password change elsewhere": _password,
}  # fmt: skip


@pytest.mark.parametrize("way", sorted(ENDINGS))
async def test_a_call_ends_within_a_second_when_access_ends(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],
    way: str,
) -> None:  # fmt: skip
    rita = await signed_in(aiohttp_client, server, "rita")
    _, sdp = await offer(peers)
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201
    session = app[LIVE].sessions[answer["session"]]
    user = next(u for u, _ in await app[ACCOUNTS].list_users() if u.username == "rita")
    await ENDINGS[way](app, rita, user.id)
    ended = time.monotonic()
    while session.pc.connectionState != "closed" and time.monotonic() - ended < 5:
        await asyncio.sleep(0.02)
    # Before the fix: only the periodic re-check ended it, up to 2 s later.
    assert answer["session"] not in app[LIVE].sessions
    assert session.pc.connectionState == "closed"
    assert time.monotonic() - ended < WITHIN_S
