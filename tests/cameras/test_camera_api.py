"""The camera routes through the façade: one camera's view, a second adoption of the same camera
refused with a reason, and aiohttp's own refusals in the project's JSON error shape."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import AUDIT, DEVICES
from doorstep.gateway.web.policy import Principal
from doorstep.simulator import SimulatedDevice, Simulator

from ..integration.conftest import StartGateway, camera_entry

OWNER = Principal(1, "owner", "owner")
RESIDENT = Principal(2, "resident", "resident", cameras=frozenset({"doorbell-1"}))


async def owner(request: web.Request) -> Principal | None:
    """Stand-in for sign-in: every caller is the owner."""
    return OWNER


async def resident(request: web.Request) -> Principal | None:
    """Stand-in for sign-in: every caller is a resident granted the doorbell only."""
    return RESIDENT


def adopt_body(device: SimulatedDevice, name: str) -> dict[str, Any]:
    p = device.profile
    return {
        "host": p.host, "port": p.onvif_port, "username": p.username,
        "password": p.password, "name": name,
    }  # fmt: skip


async def test_the_same_camera_is_not_adopted_twice(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway([], owner)
    doorbell = simulator.devices["doorbell-1"]
    first = await gateway.client.post("/api/cameras", json=adopt_body(doorbell, "Front door"))
    assert first.status == 201, await first.text()
    await gateway.state("front-door", CameraState.ONLINE)
    # Before: 201 again, a second supervisor ("front-door-2") on the same camera.
    again = await gateway.client.post("/api/cameras", json=adopt_body(doorbell, "Porch"))
    assert again.status == 409
    body = await again.json()
    assert body["error"] == "already_adopted"
    assert "front-door" in body["reason"]
    assert f":{doorbell.profile.onvif_port}" in body["reason"]
    # Another camera on the same host is welcome.
    camera = simulator.devices["camera-1"]
    assert (
        await gateway.client.post("/api/cameras", json=adopt_body(camera, "Yard"))
    ).status == 201
    assert list(gateway.app[DEVICES].supervisors) == ["front-door", "yard"]
    entries = await gateway.app[AUDIT].query(action="camera.adopt")
    assert [e.outcome for e in entries].count("failed") == 1


async def test_a_camera_from_the_config_is_not_adopted_again(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    camera = simulator.devices["camera-1"]
    gateway = await start_gateway([camera_entry(camera)], owner)
    response = await gateway.client.post("/api/cameras", json=adopt_body(camera, "Garden"))
    assert response.status == 409
    assert "'camera-1'" in (await response.json())["reason"]


async def test_one_camera_is_one_get(simulator: Simulator, start_gateway: StartGateway) -> None:
    entries = [camera_entry(d) for d in simulator.devices.values()]
    gateway = await start_gateway(entries, resident)
    await gateway.state("doorbell-1", CameraState.ONLINE)
    response = await gateway.client.get("/api/cameras/doorbell-1")
    assert response.status == 200
    view = await response.json()
    assert (view["id"], view["state"], view["talk"]) == ("doorbell-1", "online", True)
    assert "password" not in view
    listed = await (await gateway.client.get("/api/cameras")).json()
    assert listed["cameras"] == [view]
    for hidden in ("camera-1", "nowhere"):  # not granted, and not there: the same answer
        response = await gateway.client.get(f"/api/cameras/{hidden}")
        assert response.status == 404
        assert await response.json() == {"error": "no_such_camera", "reason": "no such camera"}


async def test_router_refusals_answer_json(start_gateway: StartGateway) -> None:
    gateway = await start_gateway([], owner)
    for method, path, status, code in (
        ("PUT", "/api/cameras/front", 405, "method_not_allowed"),
        ("PATCH", "/api/cameras", 405, "method_not_allowed"),
        ("PUT", "/api/health", 405, "method_not_allowed"),
        ("GET", "/api/no-such-route", 404, "not_found"),
    ):
        response = await gateway.client.request(method, path, json={})
        assert response.status == status, (method, path)
        assert response.content_type == "application/json", (method, path, await response.text())
        body = await response.json()
        assert body["error"] == code
        assert body["reason"]
    refused = await gateway.client.put("/api/cameras/front", json={})
    assert set(refused.headers["Allow"].split(",")) >= {"GET", "DELETE"}
