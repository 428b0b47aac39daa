"""Hostile input through the real HTTP API: mutated WebRTC offers, and arbitrary header values
(cookies, Host, Origin, …) on raw sockets. Never a 500; a refusal is a 4xx with a reason."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection
from hypothesis import strategies as st

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import ACCOUNTS, LIVE
from doorstep.simulator import Simulator

from ..gateway_client import SAME_ORIGIN, Client, call, doorbell_config, until_online
from .properties import SDP_LINES, examples, mutated_lines

PASSWORD = "resident password"  # a test account
MUTATED_OFFERS = 300
HEADER_REQUESTS = 300
# The probe's findings, each once a 500 with a traceback (StopIteration, AssertionError,
# AttributeError inside aiortc's parser).
PROBE_LINES = ("a=fmtp:77 x", "a=rtpmap")


@pytest.fixture
async def server(simulator: Simulator, tmp_path: Path, aiohttp_server: Any) -> Any:
    app: web.Application = await asyncio.to_thread(
        build_app, doorbell_config(simulator, tmp_path / "data")
    )
    running = await aiohttp_server(app)
    console = Principal(0, "console", "owner")
    rita = await app[ACCOUNTS].create_user(console, "rita", PASSWORD, "resident", "test")
    await app[ACCOUNTS].update_user(console, rita.id, None, None, {"front"}, "test")
    await until_online(app, "front")
    return running


async def real_offer() -> str:
    """What a viewer really sends: video and audio to receive."""
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


def probe_offers(sdp: str) -> list[str]:
    """The three offers the attacker's probe turned into 500s."""
    lines = sdp.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("a=rtpmap"))
    return [
        "\r\n".join([*lines[:at], PROBE_LINES[0], *lines[at:]]) + "\r\n",
        sdp + "m=video abc\r\n",
        "\r\n".join([*lines[:at], PROBE_LINES[1], *lines[at:]]) + "\r\n",
    ]


async def test_malformed_offers_are_refused_with_a_reason_never_a_500(
    server: Any, aiohttp_client: Any
) -> None:
    rita: Client = await aiohttp_client(server)
    async with rita.post(
        "/api/session", json={"username": "rita", "password": PASSWORD}, headers=SAME_ORIGIN
    ) as response:
        assert response.status == 200, await response.text()
    seed = await real_offer()
    mutated = await asyncio.to_thread(examples, mutated_lines([seed], SDP_LINES), MUTATED_OFFERS)
    statuses: dict[int, int] = {}
    for sdp in [*probe_offers(seed), *mutated]:
        status, body = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
        statuses[status] = statuses.get(status, 0) + 1
        assert status == 201 or 400 <= status < 500, (status, body, sdp)
        if status == 201:
            assert (await call(rita, "DELETE", f"/api/live/session/{body['session']}"))[0] == 200
        else:
            assert body is not None, (status, sdp)  # JSON, not an HTML error page
            assert body["reason"], body
    assert server.app[LIVE].sessions == {}
    assert statuses.get(422, 0) >= 3, statuses  # the probe's three, at least


async def test_the_probes_offers_say_why(server: Any, aiohttp_client: Any) -> None:
    rita: Client = await aiohttp_client(server)
    async with rita.post(
        "/api/session", json={"username": "rita", "password": PASSWORD}, headers=SAME_ORIGIN
    ) as response:
        assert response.status == 200
    for sdp in probe_offers(await real_offer()):
        status, body = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
        assert (status, body["error"]) == (422, "live_refused")
        assert body["reason"].startswith("unreadable offer"), body


_HEADER_NAMES = [
    "Cookie", "Host", "Origin", "Sec-Fetch-Site", "Referer", "Content-Type", "Accept",
    "Accept-Encoding", "If-None-Match", "If-Modified-Since", "Range", "X-Forwarded-For",
    "Authorization", "Accept-Language", "Connection",
]  # fmt: skip
_COOKIE_VALUES = [
    b"doorstep_session=\xff", b"__Host-doorstep_session=\xc3\xa9", b"doorstep_session=\"",
    b"\x80=1", b";;;;", b"doorstep_session=" + b"a" * 8000, b"doorstep_session=a; " * 200,
    b"doorstep_session=%00", b"=",
]  # fmt: skip
_header_values = (
    st.sampled_from(_COOKIE_VALUES)
    | st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
    | st.text(max_size=40)
    .map(lambda s: s.encode("utf-8", "surrogatepass"))
    .map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
)
_requests = st.tuples(
    st.sampled_from(["GET /api/health", "GET /api/cameras", "GET /", "POST /api/session",
                     "GET /api/live/ice", "DELETE /api/session", "GET /api/openapi.json"]),
    st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), _header_values), min_size=1, max_size=4),
)  # fmt: skip


async def raw_status(port: int, head: bytes) -> bytes:
    """The status line the server answers a raw request with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 20)
    finally:
        writer.close()


async def test_arbitrary_header_values_never_give_a_500(
    tmp_path: Path, aiohttp_server: Any
) -> None:
    config = Config.model_validate({"storage": {"data_dir": tmp_path}})
    app: web.Application = await asyncio.to_thread(build_app, config)
    # No access log, as the gateway runs (make_runner): aiohttp's would copy the raw Referer
    # bytes into the captured log, which pytest-xdist cannot send back from its worker.
    running = await aiohttp_server(app, access_log=None)
    requests = await asyncio.to_thread(examples, _requests, HEADER_REQUESTS)
    failures = []
    for request_line, headers in requests:
        names = {name for name, _ in headers}
        lines = [f"{request_line} HTTP/1.1".encode()]
        if "Host" not in names:
            lines.append(f"Host: 127.0.0.1:{running.port}".encode())
        lines += [name.encode() + b": " + value for name, value in headers if name != "Connection"]
        head = b"\r\n".join([*lines, b"Connection: close", b"Content-Length: 0", b"", b""])
        status = await raw_status(running.port, head)
        if not status.startswith(b"HTTP/1.") or status.split()[1].startswith(b"5"):
            failures.append((status, headers))
    assert not failures, f"{len(failures)} of {len(requests)} requests: {failures[:5]}"
