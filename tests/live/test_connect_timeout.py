"""A call whose peer connection never connects (its candidates point at a socket that swallows
every packet) is ended after the service's connect timeout: closed, its stream demand
dropped, and audited."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.web.keys import DATABASE, LIVE, STREAMS
from doorstep.simulator import Simulator

from ..gateway_client import call
from ..media.probes import wait_until
from .conftest import offer, signed_in

TIMEOUT_S = 1.0  # the test's own; the gateway's is CONNECT_TIMEOUT_S (15 s)


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A UDP port on 127.0.0.1 that receives everything and answers nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def pointing_nowhere(sdp: str, port: int) -> str:
    """The offer with every candidate moved to the black hole (and nothing else reachable)."""
    return re.sub(
        r"(a=candidate:\S+ \d+ udp \d+) \S+ \d+ (typ \w+).*",
        lambda m: f"{m.group(1)} 127.0.0.1 {port} {m.group(2)}",
        sdp,
    )


async def test_a_call_that_never_connects_is_ended_and_audited(
    aiohttp_client: Any,
    server: Any,
    app: web.Application,
    peers: list[RTCPeerConnection],
    simulator: Simulator,
    black_hole: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_module, "LINGER_S", 0.2)
    app[LIVE].connect_timeout_s = TIMEOUT_S
    rita = await signed_in(aiohttp_client, server, "rita")
    viewer, sdp = await offer(peers)
    await viewer.close()  # the browser that offered is gone too: nothing answers a check
    nowhere = pointing_nowhere(sdp, black_hole)
    assert f"127.0.0.1 {black_hole} typ host" in nowhere
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": nowhere})
    assert status == 201, answer
    session = app[LIVE].sessions[answer["session"]]
    stream = app[STREAMS].get("front/main")
    assert stream is not None
    assert await wait_until(lambda: answer["session"] not in app[LIVE].sessions, 15)
    assert session.pc.connectionState == "closed"
    assert not session.connected.is_set()
    assert stream._consumers == set()  # its demand on the camera's stream is gone
    doorbell = simulator.devices["doorbell-1"]
    assert await wait_until(lambda: doorbell._rtsp.active_sessions == 0, 10)
    rows: list[Any] = []
    for _ in range(100):  # live.stop is written once the call is fully closed
        rows = await app[DATABASE].durable.fetchall(
            "SELECT action, detail FROM audit WHERE actor = 'rita' AND action = 'live.stop'"
        )
        if rows:
            break
        await asyncio.sleep(0.05)
    assert len(rows) == 1, rows
    assert '"reason":"not connected within 1 s"' in rows[0][1], rows


async def test_a_call_that_connects_is_not_timed_out(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    app[LIVE].connect_timeout_s = TIMEOUT_S
    rita = await signed_in(aiohttp_client, server, "rita")
    pc, sdp = await offer(peers)
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201, answer
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    session = app[LIVE].sessions[answer["session"]]
    assert await wait_until(session.connected.is_set, 15)
    assert session.deadline is not None
    await asyncio.wait_for(asyncio.shield(session.deadline), 5)  # it ended: connected in time
    assert answer["session"] in app[LIVE].sessions
