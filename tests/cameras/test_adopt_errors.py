"""Adding a camera by address fails in words a homeowner understands: a wrong password, nothing
at that address, something that is not an ONVIF camera, a camera too slow to answer — each a
422 with a reason, a hint and the raw detail, against the simulator and real loopback sockets."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.cameras import adoption
from doorstep.gateway.cameras.status_text import WRONG_PASSWORD
from doorstep.gateway.web.keys import AUDIT, DEVICES
from doorstep.simulator import Simulator

from ..conftest import free_port
from ..integration.conftest import Gateway, StartGateway
from .settings_helpers import by_header

PROTOCOL_WORDS = re.compile(r"Error\b|Exception|zeep|SOAP|HTTP \d|errno|\[|ssl:", re.IGNORECASE)
"""What a homeowner should not have to read in the reason (the detail keeps it)."""


async def _adopt(gateway: Gateway, **body: Any) -> tuple[int, dict[str, Any]]:
    body.setdefault("name", "Porch")
    async with gateway.client.post("/api/cameras", json=body) as response:
        return response.status, await response.json()


def _friendly(answer: dict[str, Any]) -> None:
    assert answer["error"] == "adoption_failed"
    assert not PROTOCOL_WORDS.search(answer["reason"]), answer
    assert answer["hint"], answer
    assert answer["detail"], answer  # the raw cause, for the details toggle


@pytest.fixture
async def web_page() -> AsyncIterator[int]:
    """A web server on loopback that is not a camera (a router's page): 404 for everything."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<html>Not Found</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield int(runner.addresses[0][1])
    await runner.cleanup()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_wrong_password_and_nothing_there_are_said_plainly(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway([], by_header)
    p = simulator.devices["camera-1"].profile
    status, answer = await _adopt(
        gateway, host=p.host, port=p.onvif_port, username=p.username, password="wrong-one"
    )
    assert status == 422, answer
    _friendly(answer)
    assert (answer["reason"], answer["field"]) == (WRONG_PASSWORD.text, "password")
    nothing = free_port()
    status, answer = await _adopt(gateway, host="127.0.0.1", port=nothing, password="x")
    assert status == 422, answer
    _friendly(answer)
    assert answer["reason"] == (
        f"Nothing answers at 127.0.0.1:{nothing} — is that the camera's address and port?"
    )
    assert answer["field"] == "host"
    status, answer = await _adopt(gateway, host="127.0.0.1", port=1, driver="hikvision")
    assert status == 422, answer
    assert answer["reason"] == "Doorstep has no driver called \u201chikvision\u201d"
    assert "onvif" in answer["hint"]
    status, answer = await _adopt(gateway, host="not a host!", port=80)
    assert status == 422, answer
    assert answer["reason"] == "host: must be a host name or an IP address"
    assert gateway.app[DEVICES].supervisors == {}
    failed = await gateway.app[AUDIT].query(action="camera.adopt")
    assert [e.outcome for e in failed] == ["failed"] * 4


async def test_something_that_is_not_an_onvif_camera_is_named_so(
    simulator: Simulator, start_gateway: StartGateway, web_page: int
) -> None:
    gateway = await start_gateway([], by_header)
    camera = simulator.devices["camera-1"]
    p = camera.profile
    expected = "Something answers at 127.0.0.1:{}, but not as an ONVIF camera"
    status, answer = await _adopt(gateway, host="127.0.0.1", port=web_page, password="x")
    assert status == 422, answer  # a router's web page
    _friendly(answer)
    assert answer["reason"] == expected.format(web_page)
    status, answer = await _adopt(gateway, host="127.0.0.1", port=p.rtsp_port, password="x")
    assert status == 422, answer  # the camera's RTSP port: it hangs up on HTTP
    _friendly(answer)
    assert answer["reason"] == (
        f"Something at 127.0.0.1:{p.rtsp_port} hung up instead of answering as an ONVIF camera"
    )
    camera.hostile = "malformed"  # a device whose ONVIF answers are not XML
    status, answer = await _adopt(
        gateway, host=p.host, port=p.onvif_port, username=p.username, password=p.password
    )
    camera.hostile = None
    assert status == 422, answer
    _friendly(answer)
    assert answer["reason"] == expected.format(p.onvif_port)


async def test_a_camera_too_slow_to_answer_times_out_in_words(
    simulator: Simulator,
    start_gateway: StartGateway,
    silent_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adoption, "ADOPT_TIMEOUT_S", 2.0)
    gateway = await start_gateway([], by_header)
    status, answer = await _adopt(gateway, host="127.0.0.1", port=silent_port, password="x")
    assert status == 422, answer
    _friendly(answer)
    assert answer["reason"] == (
        "The camera at 127.0.0.1 isn't answering — is it powered and on the network?"
    )
    assert answer["detail"] == "no answer within 2 s"
    camera = simulator.devices["camera-1"]
    camera.slow_s = 5.0  # the simulator's slow link: every answer 5 s late
    p = camera.profile
    status, answer = await _adopt(
        gateway, host=p.host, port=p.onvif_port, username=p.username, password=p.password
    )
    camera.slow_s = 0.0
    assert status == 422, answer
    assert answer["reason"].startswith("The camera at 127.0.0.1 isn't answering")
