"""Fixtures for the push tests: the rig (gateway + simulated doorbell + loopback push service),
residents rita (granted `front`) and nina (no camera), and a neighbour ned."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from doorstep.gateway.auth import Principal
from doorstep.gateway.events import CameraEventReceived
from doorstep.gateway.notify.dispatcher import PushDispatcher
from doorstep.gateway.web.keys import ACCOUNTS, BUS, PUSH, STORAGE
from doorstep.sdk import DeviceEvent, EventKind
from doorstep.simulator import Simulator

from ..simulator.conftest import media, simulator, simulator_factory  # noqa: F401
from .rig import PushRig, browser, push_rig, sign_in

PASSWORD = "resident password"
CONSOLE = Principal(0, "console", "owner")


@pytest.fixture
async def rig(simulator: Simulator, tmp_path: Path) -> AsyncIterator[PushRig]:  # noqa: F811
    async with push_rig(simulator, tmp_path / "data") as running:
        accounts = running.app[ACCOUNTS]
        rita = await accounts.create_user(CONSOLE, "rita", PASSWORD, "resident", "test")
        await accounts.update_user(CONSOLE, rita.id, None, None, {"front"}, "test")
        await accounts.create_user(CONSOLE, "nina", PASSWORD, "resident", "test")
        await accounts.create_user(CONSOLE, "ned", PASSWORD, "neighbour", "test")
        yield running


Login = Callable[[str], Awaitable[aiohttp.ClientSession]]


@pytest.fixture
async def login(rig: PushRig) -> AsyncIterator[Login]:
    """Sign an account in from a browser of its own."""
    opened: list[aiohttp.ClientSession] = []

    async def open_as(username: str) -> aiohttp.ClientSession:
        session = browser(rig.server)
        opened.append(session)
        await sign_in(session, username, PASSWORD)
        return session

    yield open_as
    for session in opened:
        await session.close()


async def user_id(rig: PushRig, username: str) -> int:
    """An account's id."""
    user = await rig.app[STORAGE].users.by_username(username)
    assert user is not None
    return user.id


def dispatcher_of(rig: PushRig) -> PushDispatcher:
    dispatcher = rig.app[PUSH].dispatcher
    assert dispatcher is not None
    return dispatcher


def publish(
    rig: PushRig,
    kind: EventKind,
    camera: str = "front",
    active: bool | None = True,
    initial: bool = False,
) -> None:
    """A camera event on the gateway's bus, as a driver's supervisor publishes it."""
    now = datetime.now(UTC)
    event = DeviceEvent(kind=kind, active=active, time=now, source="000", initial=initial)
    rig.app[BUS].publish(CameraEventReceived(camera, event, now))


async def settle(rig: PushRig) -> None:
    """Wait until every published event has been sent to every device that wants it."""
    await dispatcher_of(rig).drained()
