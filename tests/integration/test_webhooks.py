"""Event callbacks (ONVIF Notify): faster than polling when the camera reaches us, polling when
it cannot, and hostile bodies refused at the door."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import resource
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from doorstep.drivers.onvif.notification import parse_notifications
from doorstep.gateway.app import build_app, serve
from doorstep.gateway.config.models import Config
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.webhook_listener import BURST, QUEUE_SIZE, RATE_PER_S, WebhookServer
from doorstep.gateway.events import CameraState
from doorstep.sdk import EventKind
from doorstep.simulator import Simulator
from doorstep.simulator.subscriptions import PushSubscription

from ..conftest import free_port
from .conftest import StartGateway, camera_entry, press_latencies

VALID = (
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema">'
    b"<env:Body><wsnt:Notify><wsnt:NotificationMessage><wsnt:Topic>tns1:VideoSource/MotionAlarm"
    b"</wsnt:Topic><wsnt:Message>"
    b'<tt:Message UtcTime="2026-01-01T00:00:00Z" PropertyOperation="Changed">'
    b'<tt:Source><tt:SimpleItem Name="Source" Value="1"/></tt:Source><tt:Data>'
    b'<tt:SimpleItem Name="State" Value="true"/></tt:Data></tt:Message></wsnt:Message>'
    b"</wsnt:NotificationMessage></wsnt:Notify></env:Body></env:Envelope>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
HOSTILE = {  # body → the 4xx it must get
    "billion laughs": (LAUGHS, 400),
    "external DTD": (
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://192.0.2.1/evil.dtd"><x/>',
        400,
    ),
    "30k-deep nesting": (b"<a>" * 30_000 + b"</a>" * 30_000, 400),  # under the size cap
    "100k-deep nesting": (b"<a>" * 100_000 + b"</a>" * 100_000, 413),  # over it
    "truncated envelope": (VALID[: len(VALID) // 2], 400),
    "invalid UTF-8": (VALID.replace(b"MotionAlarm", b"Motion\xff\xfeAlarm"), 400),
    "not XML at all": (b"\x00\x01\x02 hello", 400),
}


async def test_presses_by_callback_reach_the_bus(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    doorbell = simulator.devices["doorbell-1"]
    doorbell.profile.visitor_hold_s = 0.2
    gateway = await start_gateway([camera_entry(doorbell)], webhooks={"enabled": True})
    await gateway.state("doorbell-1", CameraState.ONLINE)
    await gateway.drain()
    assert doorbell.subscriptions.count == 1
    assert any(
        isinstance(s, PushSubscription) for s in doorbell.subscriptions._subscriptions.values()
    )
    # Each press arrives as a live 'on' then its 'off', through the only subscription there is:
    # the callback one. How fast is bench/events.py's figure (`--path webhook`), not a test's.
    await press_latencies(gateway, doorbell)
    assert doorbell.subscriptions.count == 1


async def test_unreachable_callback_falls_back_to_polling(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    doorbell = simulator.devices["doorbell-1"]
    # The camera is told to call 127.0.0.9, where nothing listens: no callback ever arrives.
    gateway = await start_gateway(
        [camera_entry(doorbell)], webhooks={"enabled": True, "advertise": "127.0.0.9"}
    )
    await gateway.state("doorbell-1", CameraState.ONLINE)
    await gateway.drain(quiet_s=7)  # the 5 s proof window, then the pull point's Initialized burst
    assert not any(
        isinstance(s, PushSubscription) for s in doorbell.subscriptions._subscriptions.values()
    )
    doorbell.press()
    event = await gateway.next_event()
    assert (event.event.kind, event.event.active) == (EventKind.DOORBELL, True)


class Clock:
    """A hand-moved monotonic clock: the rate limits see only the time a test gives them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def hooks(clock: Clock) -> AsyncIterator[WebhookServer]:
    server = WebhookServer("127.0.0.1", 0, None, clock)
    await server.start()
    yield server
    await server.stop()


async def test_checked_callbacks_reach_the_driver(hooks: WebhookServer) -> None:
    hook = await hooks.register("127.0.0.1", parse_notifications)
    async with aiohttp.ClientSession() as http, http.post(hook.url, data=VALID) as response:
        assert response.status == 202
    notifications = await asyncio.wait_for(hook.receive(), 1)
    assert notifications[0].topic == "tns1:VideoSource/MotionAlarm"


async def test_hostile_bodies_get_4xx_with_memory_flat(hooks: WebhookServer) -> None:
    hook = await hooks.register("127.0.0.1", parse_notifications)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # An expanded entity or a parse that runs away never answers in time (or blows the memory
    # check below); a generous bound, so a loaded machine is not mistaken for either.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        for _ in range(5):
            for name, (body, status) in HOSTILE.items():
                async with http.post(hook.url, data=body) as response:
                    assert response.status == status, name
                    assert b"lol" not in await response.read()
            hook.bucket.tokens = BURST  # this test is about bodies, not the rate limit
        huge = b"<a>" + b"x" * (20 * 1024 * 1024) + b"</a>"
        async with http.post(hook.url, data=io.BytesIO(huge)) as response:
            assert response.status == 413
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 64, grown_mib
    assert hook.queue.empty()  # nothing hostile got through to the driver


async def test_wrong_sender_unknown_token_and_floods(hooks: WebhookServer, clock: Clock) -> None:
    hook = await hooks.register("127.0.0.1", parse_notifications)
    stranger = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with (
        aiohttp.ClientSession(connector=stranger) as http,
        http.post(hook.url, data=VALID) as response,
    ):
        assert response.status == 403
    async with aiohttp.ClientSession() as http:
        async with http.post(hook.url.rsplit("/", 1)[0] + "/guessed-token", data=VALID) as response:
            assert response.status == 404
        # The clock stands still however slowly the machine serves the flood: exactly the burst
        # gets through, then every POST is refused until time passes.
        statuses = []
        for _ in range(int(BURST) + 20):
            async with http.post(hook.url, data=VALID) as response:
                statuses.append(response.status)
        assert statuses == [202] * int(BURST) + [429] * 20, statuses
        assert response.headers["Retry-After"] == "1"
        clock.now += 1.0  # a second later: the rate's worth, and no more
        statuses = []
        for _ in range(int(RATE_PER_S) + 20):
            async with http.post(hook.url, data=VALID) as response:
                statuses.append(response.status)
        assert statuses == [202] * int(RATE_PER_S) + [429] * 20, statuses
    assert hook.accepted == int(BURST + RATE_PER_S)
    assert hook.queue.qsize() <= QUEUE_SIZE  # bounded, whatever the flood


def _port_is_free(port: int) -> bool:
    """Whether a plain bind to 127.0.0.1:`port` succeeds (it fails while anything listens)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _open_files_under(folder: Path) -> list[str]:
    """The files under `folder` this process holds open (Linux: /proc/self/fd)."""
    held = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # fds come and go while we look
            target = os.readlink(fd)
            if target.startswith(str(folder)):
                held.append(target)
    return held


async def test_a_start_step_after_the_listener_fails_and_the_listener_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks_port = free_port()
    config = Config.model_validate({
        "storage": {"data_dir": tmp_path / "data"},
        "server": {"port": free_port()},
        "webhooks": {"enabled": True, "host": "127.0.0.1", "port": hooks_port},
    })  # fmt: skip
    app = await asyncio.to_thread(build_app, config)

    def broken_start(self: DeviceManager) -> None:
        raise RuntimeError("a start step after the listener failed")

    monkeypatch.setattr(DeviceManager, "start", broken_start)
    with pytest.raises(RuntimeError, match="after the listener failed"):
        await serve(app, config)
    assert _port_is_free(hooks_port)  # before the fix: still listening, for the process's life
    assert _open_files_under(tmp_path / "data") == []  # the steps that did start were stopped
