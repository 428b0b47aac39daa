"""The diagnostics download: owner only, and no host, user name or password in it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.diagnostics_api import REDACTED, redact
from doorstep.simulator import Simulator

from ..gateway_client import SAME_ORIGIN, Client, until_online
from ..simulator.conftest import StartSimulator, media, simulator_factory  # noqa: F401
from ..web.conftest import set_up_owner

PASSWORD = "s3cret-Pa55"
USER = "diaguser"


@pytest.fixture
async def sim(simulator_factory: StartSimulator) -> AsyncIterator[Simulator]:  # noqa: F811
    async with simulator_factory(cameras=1, doorbells=0, username=USER, password=PASSWORD) as s:
        yield s


@pytest.fixture
async def client(
    sim: Simulator, tmp_path: Path, aiohttp_server: Any, aiohttp_client: Any
) -> Client:
    profile = sim.devices["camera-1"].profile
    config = Config.model_validate({
        "storage": {"data_dir": tmp_path / "data"},
        "cameras": [{"id": "yard", "name": "Yard", "driver": "rtsp", "host": profile.host,
                     "port": profile.rtsp_port, "username": USER, "password": PASSWORD,
                     "options": {"main_path": "/stream/main"}}],
    })  # fmt: skip
    app: web.Application = await asyncio.to_thread(build_app, config)
    server = await aiohttp_server(app)
    result: Client = await aiohttp_client(server)
    return result


async def test_owner_downloads_a_redacted_report(client: Client, sim: Simulator) -> None:
    async with client.get("/api/cameras/yard/diagnostics", headers=SAME_ORIGIN) as response:
        assert response.status == 401  # not signed in
    await set_up_owner(client)
    await until_online(client.app, "yard")
    async with client.get("/api/cameras/yard/diagnostics", headers=SAME_ORIGIN) as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="doorstep-yard-diagnostics.json"'
        )
        text = await response.text()
    report = json.loads(text)
    assert report["state"] == "online"
    assert report["driver"] == "rtsp"
    assert report["driver_diagnostics"]["probes"] >= 1
    assert report["driver_diagnostics"]["last_probe_status"] == "200 OK"
    rtsp_port = sim.devices["camera-1"].profile.rtsp_port
    assert report["streams"][0]["url"] == f"rtsp://{REDACTED}:{rtsp_port}/stream/main"
    for secret in (PASSWORD, USER, "127.0.0.1"):
        assert secret not in text
    async with client.get("/api/cameras/nope/diagnostics", headers=SAME_ORIGIN) as response:
        assert response.status == 404
        assert (await response.json())["error"] == "no_such_camera"


def test_redaction_covers_what_a_careless_driver_reports() -> None:
    report = {
        "subscription": "http://admin:hunter2@192.0.2.7:8080/onvif/events?x=1",
        "Password": "hunter2",
        "nested": [{"credential": {"any": "thing"}}, "reached 192.0.2.7 as admin"],
        "counters": {"pulls": 3, "ok": True, "ratio": 0.5, "none": None},
        "rtsp": "rtsp://[2001:db8::1]:554/s",
        "deep": [[[[[[[[[["x"]]]]]]]]]],
    }
    out = redact(report, ["192.0.2.7", "admin", "hunter2"])
    text = json.dumps(out)
    for secret in ("hunter2", "admin", "192.0.2.7", "2001:db8"):
        assert secret not in text
    assert isinstance(out, dict)
    assert out["subscription"] == f"http://{REDACTED}:8080/onvif/events?x=1"
    assert out["Password"] == REDACTED
    assert out["nested"] == [{"credential": REDACTED}, f"reached {REDACTED} as {REDACTED}"]
    assert out["counters"] == {"pulls": 3, "ok": True, "ratio": 0.5, "none": None}
    assert out["rtsp"] == f"rtsp://{REDACTED}:554/s"
    assert "[too deep]" in text
