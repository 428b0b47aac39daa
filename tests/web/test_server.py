"""The web app over a real loopback server: health, OpenAPI, default-deny, CSRF, headers, files."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.storage import EventRepository
from doorstep.gateway.storage.db import load_migrations
from doorstep.gateway.web.keys import DATABASE, DEVICES
from doorstep.gateway.web.policy import POLICIES, Access, allow
from doorstep.sdk import DeviceEvent, EventKind

from ..devices.scripted_driver import Script, ScriptedDriver

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


async def built(config: Config, registry: DriverRegistry | None = None) -> web.Application:
    """`build_app` in a thread: it reads files, which must not happen on the loop."""
    return await asyncio.to_thread(build_app, config, registry)


def make_config(tmp_path: Path, cameras: list[dict[str, object]] | None = None) -> Config:
    return Config.model_validate({"storage": {"data_dir": tmp_path}, "cameras": cameras or []})


async def test_health_reports_components(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(await built(make_config(tmp_path)))
    response = await client.get("/api/health")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["status"] == "ok"
    latest = (await asyncio.to_thread(load_migrations))[-1].version
    assert body["storage"] == {"state": "ok", "schema_version": latest}
    assert "rtsp" in body["drivers"]["loaded"]
    assert body["cameras"] == {"total": 0, "by_state": {}}
    # What always follows the bus; MQTT is not among them unless configured.
    subscribers = sorted(s["name"] for s in body["bus"]["subscribers"])
    assert subscribers == ["history", "outgoing_webhooks", "push", "recording", "rings"]
    assert body["recording"]["state"] == "ok"
    assert body["recording"]["free_mib"] is None or body["recording"]["free_mib"] > 0


async def test_health_is_degraded_by_a_missing_driver(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    config = make_config(
        tmp_path, [{"id": "cam", "name": "Cam", "driver": "acme", "host": "192.0.2.1"}]
    )
    client = await aiohttp_client(
        await built(config, DriverRegistry(failures={"acme": "ImportError: x"}))
    )
    await asyncio.sleep(0.05)
    body = await (await client.get("/api/health")).json()
    assert body["status"] == "degraded"
    assert body["drivers"]["failed"] == {"acme": "ImportError: x"}
    assert body["cameras"] == {"total": 1, "by_state": {"disabled": 1}}
    supervisor = client.app[DEVICES].supervisors["cam"]
    assert supervisor.reason == "driver 'acme' failed to load (ImportError: x)"


async def test_openapi_documents_every_api_route(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = await built(make_config(tmp_path))
    client = await aiohttp_client(app)
    document = await (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    health = document["paths"]["/api/health"]["get"]
    assert health["x-doorstep-access"] == "public"
    ref = health["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] in document["components"]["schemas"]
    api_paths = {
        r.resource.canonical
        for r in app.router.routes()
        if r.resource and r.resource.canonical.startswith("/api/")
    }
    assert api_paths == set(document["paths"])


async def test_every_route_declares_a_policy(tmp_path: Path) -> None:
    app = await built(make_config(tmp_path))
    policies = app[POLICIES]
    for route in app.router.routes():
        assert route.resource is not None
        assert (route.method, route.resource.canonical) in policies, route


async def test_route_without_policy_is_refused(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = await built(make_config(tmp_path))

    async def secret(request: web.Request) -> web.Response:
        return web.Response(text="clip bytes")

    async def private(request: web.Request) -> web.Response:
        return web.Response(text="private")

    app.router.add_get("/api/forgotten", secret)
    app.router.add_get("/api/private", private)
    allow(app, "GET", "/api/private", Access.SIGNED_IN)
    client = await aiohttp_client(app)
    forgotten = await client.get("/api/forgotten")
    assert forgotten.status == 403
    assert "clip bytes" not in await forgotten.text()
    assert (await client.get("/api/private")).status == 401
    # The trusted-localhost mistake: a forwarded header changes nothing.
    assert (
        await client.get("/api/private", headers={"X-Forwarded-For": "127.0.0.1"})
    ).status == 401


async def test_cross_site_state_change_is_refused(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = await built(make_config(tmp_path))
    changed: list[str] = []

    async def change(request: web.Request) -> web.Response:
        changed.append("yes")
        return web.json_response({})

    app.router.add_post("/api/change", change)
    allow(app, "POST", "/api/change", Access.PUBLIC)
    client = await aiohttp_client(app)
    cross = await client.post("/api/change", json={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status == 403
    other_origin = await client.post(
        "/api/change", json={}, headers={"Origin": "http://evil.example"}
    )
    assert other_origin.status == 403
    form = await client.post("/api/change", data={"a": "1"})  # what an HTML form can send
    assert form.status == 415
    assert changed == []
    same = await client.post("/api/change", json={}, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status == 200
    assert changed == ["yes"]


async def test_security_headers_on_pages_and_errors(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(await built(make_config(tmp_path)))
    for path in ("/", "/api/nope", "/static/app.js"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    index = await client.get("/")
    assert index.status == 200
    assert "<title>Doorstep</title>" in await index.text()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/%2e%2e%2fpyproject.toml",
        "/static/..%5cpyproject.toml",
        "/static//etc/passwd",
        "/static/%00index.html",
        "/static/",
    ],
)
async def test_static_files_cannot_escape_the_ui_dir(
    aiohttp_client: ClientFactory, tmp_path: Path, path: str
) -> None:
    client = await aiohttp_client(await built(make_config(tmp_path)))
    response = await client.get(path)
    assert response.status in (403, 404)
    assert "[build-system]" not in await response.text()


async def test_camera_events_reach_storage_through_the_bus(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    script = Script()
    registry = DriverRegistry(drivers={"scripted": ScriptedDriver(script)})
    config = make_config(
        tmp_path, [{"id": "door", "name": "Door", "driver": "scripted", "host": "192.0.2.5"}]
    )
    client = await aiohttp_client(await built(config, registry))
    press = DeviceEvent(kind=EventKind.DOORBELL, active=True, time=datetime.now(UTC), source="000")
    script.feed.put_nowait(press)
    events = EventRepository(client.app[DATABASE].standard)
    for _ in range(200):
        stored = await events.recent(["door"])
        if stored:
            break
        await asyncio.sleep(0.01)
    assert [(e.kind, e.active, e.source) for e in stored] == [("doorbell", True, "000")]
    body = await (await client.get("/api/health")).json()
    assert body["cameras"]["by_state"] == {"online": 1}
    assert body["bus"]["published"] >= 3  # connecting, online, the press
