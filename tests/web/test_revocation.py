"""Long-lived channels stop within a second when access ends (issue 11, hole 2): the event
stream, for each way access can end; the stream cap per account; no user names in health.

Live calls get the same matrix in tests/live/test_live_revocation.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from doorstep.gateway.auth import Principal
from doorstep.gateway.events import CameraEventReceived
from doorstep.gateway.web.events_api import MAX_STREAMS_PER_USER
from doorstep.gateway.web.keys import ACCOUNTS, BUS
from doorstep.sdk import DeviceEvent, EventKind

from ..gateway_client import SAME_ORIGIN, Client, call
from .conftest import set_up_owner

RESIDENT = ("rita", "resident pass 1")
CONSOLE = Principal(0, "console", "owner")
WITHIN_S = 1.0


@dataclass
class Reader:
    """Reads an SSE stream in the background: what arrived, when, and when it ended."""

    response: aiohttp.ClientResponse
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    ended_at: float | None = None
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        name = ""
        try:
            async for raw in self.response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name == "camera-event":
                    self.events.append((time.monotonic(), json.loads(line[6:])))
        except aiohttp.ClientError:
            pass
        self.ended_at = time.monotonic()


async def open_stream(client: Client) -> Reader:
    """Open the event stream and read it in the background."""
    response = await client.get("/api/events/stream", headers=SAME_ORIGIN)
    assert response.status == 200
    reader = Reader(response)
    reader.task = asyncio.create_task(reader.run())
    return reader


@contextlib.asynccontextmanager
async def camera_events(app: web.Application, camera_id: str) -> AsyncIterator[None]:
    """A camera sending motion events every 20 ms, as a busy camera would."""

    async def send() -> None:
        while True:
            event = DeviceEvent(kind=EventKind.MOTION, active=True, time=datetime.now(UTC))
            app[BUS].publish(CameraEventReceived(camera_id, event, datetime.now(UTC)))
            await asyncio.sleep(0.02)

    task = asyncio.create_task(send())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def resident(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> tuple[Client, Client, int]:
    """(owner, resident, resident's id): the resident is granted the garden camera."""
    owner = await browser()
    await set_up_owner(owner)
    user = await app[ACCOUNTS].create_user(CONSOLE, *RESIDENT, "resident", "test")
    await app[ACCOUNTS].update_user(CONSOLE, user.id, None, None, {"garden"}, "test")
    client = await browser()
    body = {"username": RESIDENT[0], "password": RESIDENT[1]}
    assert (await call(client, "POST", "/api/session", body))[0] == 200
    return owner, client, user.id


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


ENDINGS: dict[str, Callable[[web.Application, Client, int], Awaitable[None]]] = {}


def ending(name: str) -> Callable[[Any], Any]:
    def register(function: Any) -> Any:
        ENDINGS[name] = function
        return function

    return register


@ending("sign-out")
async def _sign_out(app: web.Application, client: Client, user_id: int) -> None:
    # The same browser signs out in another tab: the stream's cookie is dead.
    assert (await call(client, "DELETE", "/api/session"))[0] == 200


@ending("disabled")
async def _disable(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].update_user(CONSOLE, user_id, None, True, None, "test")


@ending("deleted")
async def _delete(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].delete_user(CONSOLE, user_id, "test")


@ending("role change")
async def _demote(app: web.Application, client: Client, user_id: int) -> None:
    await app[ACCOUNTS].update_user(CONSOLE, user_id, "neighbour", None, None, "test")


@ending("password change elsewhere")
async def _password(app: web.Application, client: Client, user_id: int) -> None:
    principal = Principal(user_id, RESIDENT[0], "resident", session="another session")
    await app[ACCOUNTS].change_password(principal, RESIDENT[1], "a brand new password", "test")


@pytest.mark.parametrize("way", sorted(ENDINGS))
async def test_the_event_stream_ends_within_a_second_when_access_ends(
    browser: Callable[[], Awaitable[Client]], app: web.Application, way: str
) -> None:
    _, client, user_id = await resident(browser, app)
    reader = await open_stream(client)
    async with camera_events(app, "garden"):
        await _until(lambda: len(reader.events) >= 3, 5)
        assert reader.events, "the stream delivered nothing before access ended"
        await ENDINGS[way](app, client, user_id)
        ended = time.monotonic()
        await _until(lambda: reader.ended_at is not None, 3)
    assert reader.ended_at is not None, f"{way}: the stream is still open"
    assert reader.ended_at - ended < WITHIN_S
    # Before the fix: 16-24 more events arrived over the next 15-30 s.
    late = [e for t, e in reader.events if t > ended + 0.1]
    assert late == []


async def test_a_withdrawn_grant_stops_that_cameras_events_at_once(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    _, client, user_id = await resident(browser, app)
    await app[ACCOUNTS].update_user(CONSOLE, user_id, None, None, {"garden", "front"}, "test")
    reader = await open_stream(client)
    async with camera_events(app, "garden"), camera_events(app, "front"):
        await _until(lambda: {e["camera_id"] for _, e in reader.events} == {"garden", "front"}, 5)
        await app[ACCOUNTS].update_user(CONSOLE, user_id, None, None, {"front"}, "test")
        withdrawn = time.monotonic()
        await asyncio.sleep(1.5)
    assert reader.ended_at is None  # the stream goes on
    after = [e["camera_id"] for t, e in reader.events if t > withdrawn]
    assert "front" in after  # the camera still granted keeps coming
    assert "garden" not in after  # before the fix: 24 more garden events


async def test_event_streams_are_capped_per_account_under_a_burst(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    _, client, _ = await resident(browser, app)
    attempts = MAX_STREAMS_PER_USER + 12
    # Before the fix: a resident opened 1000 streams.
    responses = await asyncio.gather(*(
        client.get("/api/events/stream", headers=SAME_ORIGIN) for _ in range(attempts)
    ))  # fmt: skip
    try:
        statuses = sorted(r.status for r in responses)
        assert statuses == [200] * MAX_STREAMS_PER_USER + [429] * (attempts - MAX_STREAMS_PER_USER)
    finally:
        for response in responses:
            response.close()
    # Closed streams give their places back.
    await _until(lambda: not app[ACCOUNTS].changes.count(), 3)
    again = await client.get("/api/events/stream", headers=SAME_ORIGIN)
    assert again.status == 200
    again.close()


async def test_health_does_not_name_who_is_signed_in(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    _, client, _ = await resident(browser, app)
    reader = await open_stream(client)
    anonymous = await browser()
    async with anonymous.get("/api/health") as response:
        text = await response.text()
    assert response.status == 200
    assert RESIDENT[0] not in text  # before the fix: "sse:rita" among the subscribers
    reader.response.close()


async def test_shutdown_ends_open_event_streams_instead_of_waiting_for_them(
    aiohttp_server: Any, aiohttp_client: Any, app: web.Application
) -> None:
    # A grace period far longer than the test may take: only ending the streams beats it.
    server = await aiohttp_server(app, shutdown_timeout=60.0)
    owner: Client = await aiohttp_client(server)
    await set_up_owner(owner)
    readers = [await open_stream(owner) for _ in range(3)]
    await asyncio.wait_for(server.close(), 20)  # before: the whole 60 s grace period
    for reader in readers:
        assert reader.task is not None
        await asyncio.wait_for(reader.task, 5)
        assert reader.ended_at is not None
