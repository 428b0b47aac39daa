"""A camera whose stream URI points at a port where nothing listens (the simulator's
DEAD_STREAM_PORT quirk): the call is answered, the page is told the camera stream is
unreachable, the gateway logs it once and backs off."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

from doorstep.gateway.web.keys import STREAMS
from doorstep.simulator import Simulator
from doorstep.simulator.profile import Quirk

from ..gateway_client import call
from ..media.probes import gateway_lines, wait_until
from .conftest import offer, signed_in


@pytest.fixture(autouse=True)
def dead_stream_port(simulator: Simulator) -> None:
    """The doorbell answers GetStreamUri with a port where nothing listens (before the
    gateway first connects to it)."""
    simulator.devices["doorbell-1"].profile.quirks = frozenset({Quirk.DEAD_STREAM_PORT})


async def test_a_dead_stream_port_is_told_logged_once_and_backed_off(
    aiohttp_client: Any,
    server: Any,
    app: web.Application,
    peers: list[RTCPeerConnection],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep.gateway")
    rita = await signed_in(aiohttp_client, server, "rita")
    pc, sdp = await offer(peers)
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201, answer  # the call stands: the camera's stream may come back
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    stream = app[STREAMS].get("front/main")
    assert stream is not None
    assert await wait_until(lambda: stream.failures >= 3, 30)
    status, body = await call(rita, "GET", "/api/cameras")
    front = next(c for c in body["cameras"] if c["id"] == "front")
    print(f"stream_error: {front['stream_error']!r}")
    warnings = gateway_lines(caplog, logging.WARNING)
    print(f"warnings: {warnings}")
    assert front["stream_error"].startswith("camera stream unreachable at 127.0.0.1:"), front
    assert front["state"] == "online"  # ONVIF answers; only the stream port is dead
    assert len(warnings) == 1, warnings
    # Hung up and called again: still told, and still not logged again.
    assert (await call(rita, "DELETE", f"/api/live/session/{answer['session']}"))[0] == 200
    _, sdp = await offer(peers)
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201, answer
    failures = stream.failures
    assert await wait_until(lambda: stream.failures > failures, 30)
    assert stream.unreachable
    assert gateway_lines(caplog, logging.WARNING) == warnings
