"""A gateway, the simulator's doorbell and a loopback push service wired together, for the
push tests and for bench/notify.py (press → push message decrypted at the receiver).

`push_rig()` yields a `PushRig`: a running gateway (camera `front` = the simulated doorbell,
named "Front door"), its owner signed in with a subscribed device, and the receiver; call
`press_to_push(rig, presses)` for the seconds from each `doorbell.press()` to its decrypted
message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
from aiohttp import web
from aiohttp.test_utils import TestServer

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import ACCOUNTS, PUSH
from doorstep.simulator import SimulatedDevice, Simulator

from ..gateway_client import SAME_ORIGIN, until_online
from ..peers.push_service import BrowserSubscription, PushReceiver

OWNER, OWNER_PASSWORD = "olivia", "correct horse battery"
CONTACT = "mailto:owner@doorstep.example"


def push_config(simulator: Simulator, data_dir: Path, receiver: PushReceiver) -> Config:
    """The simulator's doorbell as `front` ("Front door"), an RTSP camera `garden` that is
    never reached, and push allowed to the loopback receiver only."""
    doorbell = simulator.devices["doorbell-1"].profile
    return Config.model_validate({
        "storage": {"data_dir": data_dir},
        "live": {"host_addresses": ["127.0.0.1"]},
        "recording": {"mode": "off"},  # tests/recording records
        "push": {"contact": CONTACT, "allowed_endpoint_hosts": [receiver.origin]},
        "cameras": [
            {"id": "front", "name": "Front door", "host": doorbell.host,
             "port": doorbell.onvif_port, "username": doorbell.username,
             "password": doorbell.password},
            {"id": "garden", "name": "Garden", "driver": "rtsp", "host": "127.0.0.1", "port": 9},
        ],
    })  # fmt: skip


async def api(
    session: aiohttp.ClientSession, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """One API call as the page makes it: (status, JSON body or None)."""
    kwargs: dict[str, Any] = {"headers": SAME_ORIGIN}
    if method != "GET":
        kwargs["json"] = {} if body is None else body
    async with session.request(method, path, **kwargs) as response:
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data


def browser(server: TestServer) -> aiohttp.ClientSession:
    """A browser of its own (cookie jar) against the gateway."""
    return aiohttp.ClientSession(
        str(server.make_url("")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


async def set_up_owner(session: aiohttp.ClientSession, app: web.Application) -> pyotp.TOTP:
    """First run: the owner with the setup token, and the second factor owners need."""
    token = app[ACCOUNTS].setup_token
    assert token
    body = {"token": token, "username": OWNER, "password": OWNER_PASSWORD}
    status, _ = await api(session, "POST", "/api/setup", body)
    assert status == 201
    status, started = await api(session, "POST", "/api/me/totp")
    assert status == 200
    otp = pyotp.TOTP(started["secret"])
    status, _ = await api(session, "POST", "/api/me/totp/confirm", {"code": otp.now()})
    assert status == 200
    return otp


async def sign_in(session: aiohttp.ClientSession, username: str, password: str) -> None:
    status, answer = await api(
        session, "POST", "/api/session", {"username": username, "password": password}
    )
    assert status == 200, answer


async def subscribe_device(
    session: aiohttp.ClientSession,
    receiver: PushReceiver,
    label: str = "phone",
    prefs: dict[str, Any] | None = None,
) -> tuple[BrowserSubscription, dict[str, Any]]:
    """What the page does: fetch the key, `pushManager.subscribe`, POST the subscription."""
    status, key = await api(session, "GET", "/api/push/key")
    assert status == 200, key
    assert key["enabled"] is True, key
    device = receiver.subscribe(key["public_key"])
    body: dict[str, Any] = {**device.to_json(), "label": label}
    if prefs is not None:
        body["prefs"] = prefs
    status, view = await api(session, "POST", "/api/push/subscriptions", body)
    assert status == 201, view
    return device, view


@dataclass
class PushRig:
    """Everything running for a press-to-phone measurement."""

    app: web.Application
    server: TestServer
    owner: aiohttp.ClientSession
    receiver: PushReceiver
    device: BrowserSubscription
    doorbell: SimulatedDevice


@asynccontextmanager
async def push_rig(simulator: Simulator, data_dir: Path) -> AsyncIterator[PushRig]:
    """A gateway on `simulator`'s doorbell with the owner's device subscribed to rings."""
    async with PushReceiver() as receiver:
        app = await asyncio.to_thread(build_app, push_config(simulator, data_dir, receiver))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        owner = browser(server)
        try:
            await set_up_owner(owner, app)
            await until_online(app, "front")
            device, _ = await subscribe_device(owner, receiver, "Olivia's phone")
            yield PushRig(app, server, owner, receiver, device, simulator.devices["doorbell-1"])
        finally:
            await owner.close()
            await server.close()


async def press_to_push(rig: PushRig, presses: int, timeout: float = 15.0) -> list[float]:
    """Seconds from each press to its ring decrypted at the receiver (one press at a time,
    each after the doorbell released the previous one)."""
    latencies = []
    dispatcher = rig.app[PUSH].dispatcher
    assert dispatcher is not None
    hold = rig.doorbell.profile.visitor_hold_s
    for _ in range(presses):
        pressed = time.perf_counter()
        assert rig.doorbell.press()
        message = await rig.receiver.next_message(timeout)
        assert message.json()["kind"] == "ring"
        latencies.append(message.at - pressed)
        await asyncio.sleep(hold + 0.2)  # released: the next press is a new ring
        await dispatcher.drained()
    return latencies
