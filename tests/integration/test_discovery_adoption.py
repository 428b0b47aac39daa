"""Finding the simulated devices, adopting one with credentials, and keeping it across restarts."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from aiohttp import web

from doorstep.drivers.onvif.discovery import probe
from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import DATABASE, DEVICES
from doorstep.gateway.web.policy import Principal
from doorstep.protocols.wsdiscovery import ProbeTarget, parse_probe_match
from doorstep.simulator import Simulator
from doorstep.simulator.discovery import Announcement, probe_match

from .conftest import Gateway, StartGateway

OWNER = Principal(1, "owner", "owner")
RESIDENT = Principal(2, "resident", "resident")


async def test_probe_finds_every_simulated_device(simulator: Simulator) -> None:
    found = await probe([ProbeTarget("127.0.0.1", simulator.discovery_port)], listen_s=0.5)
    by_name = {d.name: d for d in found}
    assert set(by_name) == {"doorbell-1", "camera-1"}
    doorbell = by_name["doorbell-1"]
    assert (doorbell.host, doorbell.port) == (
        "127.0.0.1",
        simulator.devices["doorbell-1"].profile.onvif_port,
    )
    assert doorbell.hardware == "SimDoorbell D1"
    assert doorbell.endpoint == simulator.devices["doorbell-1"].profile.endpoint
    assert doorbell.found_by == "ws-discovery"


def test_spoofed_and_unsolicited_matches_are_refused() -> None:
    announcement = Announcement(
        "urn:uuid:1", ["onvif://www.onvif.org/name/x"], ["http://10.9.9.9/onvif/device_service"]
    )
    ours = {"urn:uuid:probe"}
    # XAddr on another host than the sender: dropped.
    assert parse_probe_match(probe_match(announcement, "urn:uuid:probe"), "127.0.0.1", ours) == []
    honest = Announcement("urn:uuid:1", [], ["http://127.0.0.1:8000/onvif/device_service"])
    assert len(parse_probe_match(probe_match(honest, "urn:uuid:probe"), "127.0.0.1", ours)) == 1
    # Not an answer to our probe: dropped.
    assert parse_probe_match(probe_match(honest, "urn:uuid:other"), "127.0.0.1", ours) == []
    metadata = Announcement("urn:uuid:2", [], ["http://169.254.169.254/latest"])
    assert parse_probe_match(probe_match(metadata, "urn:uuid:probe"), "169.254.169.254", ours) == []
    for hostile in (b"<x", b'<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>', b"\x00" * 70_000):
        assert parse_probe_match(hostile, "127.0.0.1", ours) == []


async def owner(request: web.Request) -> Principal | None:
    """Stand-in for sign-in (the accounts issue brings sessions): every caller is the owner."""
    return OWNER


async def resident(request: web.Request) -> Principal | None:
    """Stand-in for sign-in: every caller is a resident."""
    return RESIDENT


async def started_with(start_gateway: StartGateway, simulator: Simulator, who: Any) -> Gateway:
    targets = [f"127.0.0.1:{simulator.discovery_port}"]
    return await start_gateway([], who, discovery={"targets": targets, "listen_s": 0.5})


async def test_discovery_api_and_adoption(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await started_with(start_gateway, simulator, owner)
    client = gateway.client
    listed = await (await client.get("/api/discovery")).json()
    names = {d["name"]: d for d in listed["devices"]}
    assert set(names) == {"doorbell-1", "camera-1"}
    assert not names["doorbell-1"]["adopted"]
    target = names["doorbell-1"]
    body = {
        "host": target["host"],
        "port": target["port"],
        "username": "admin",
        "password": "wrong",
        "name": "Front door",
    }
    refused = await client.post("/api/cameras", json=body)
    assert refused.status == 422
    assert (await refused.json())["reason"] == (
        "The camera refused the user name or password — check them in the camera's settings"
    )
    body["password"] = "doorstep"
    adopted = await client.post("/api/cameras", json=body)
    assert adopted.status == 201, await adopted.text()
    camera = await adopted.json()
    assert camera["id"] == "front-door"
    assert "password" not in json.dumps(camera)
    await gateway.state("front-door", CameraState.ONLINE)
    cameras = await (await client.get("/api/cameras")).json()
    assert [c["id"] for c in cameras["cameras"]] == ["front-door"]
    assert cameras["cameras"][0]["model"] == "SimDoorbell D1"
    assert "doorstep" not in json.dumps(cameras)  # no credential anywhere in the API
    listed = await (await client.get("/api/discovery")).json()
    assert {d["name"]: d["adopted"] for d in listed["devices"]}["doorbell-1"] is True
    stored = await gateway.app[DATABASE].standard.fetchone("SELECT secret FROM camera_credentials")
    assert stored is not None
    assert b"doorstep" not in bytes(stored[0])  # sealed, not in clear


async def test_adopted_camera_survives_a_restart(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    first = await started_with(start_gateway, simulator, owner)
    device = simulator.devices["camera-1"].profile
    body = {
        "host": device.host,
        "port": device.onvif_port,
        "username": "admin",
        "password": "doorstep",
        "name": "Garden",
    }
    assert (await first.client.post("/api/cameras", json=body)).status == 201
    await first.client.close()
    second = await started_with(start_gateway, simulator, owner)  # same data dir
    await second.state("garden", CameraState.ONLINE)
    assert second.app[DEVICES].supervisors["garden"].info is not None


async def test_residents_cannot_adopt_or_probe(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await started_with(start_gateway, simulator, resident)
    assert (await gateway.client.get("/api/discovery")).status == 403
    body = {"host": "127.0.0.1", "port": 1, "name": "x"}
    assert (await gateway.client.post("/api/cameras", json=body)).status == 403
    assert (await gateway.client.get("/api/cameras")).status == 200


async def test_anonymous_gets_401(simulator: Simulator, start_gateway: StartGateway) -> None:
    gateway = await start_gateway([])
    for method, path in (
        ("GET", "/api/cameras"),
        ("GET", "/api/discovery"),
        ("POST", "/api/cameras"),
    ):
        response = await gateway.client.request(method, path, json={})
        assert response.status == 401, path


@pytest.mark.parametrize(
    "body",
    [
        {"host": "$(id)", "name": "x"},
        {"host": "127.0.0.1", "name": ""},
        {"host": "127.0.0.1", "name": "x", "port": 0},
    ],
)
async def test_bad_adoption_input_is_422(
    simulator: Simulator, start_gateway: StartGateway, body: dict[str, Any]
) -> None:
    gateway = await started_with(start_gateway, simulator, owner)
    response = await gateway.client.post("/api/cameras", json=body)
    assert response.status == 422
    assert (await response.json())["error"]


async def test_discover_command_lists_the_devices(simulator: Simulator) -> None:
    target = f"127.0.0.1:{simulator.discovery_port}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "discover", "--target", target,
        "--seconds", "0.5", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[-1] == "2 device(s) found"
    doorbell = next(line for line in lines if "doorbell-1" in line)
    assert doorbell.startswith(f"127.0.0.1:{simulator.devices['doorbell-1'].profile.onvif_port}")
    assert "ws-discovery" in doorbell


async def test_discover_command_sends_nothing_unless_told() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "discover",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "nothing to probe" in err.decode()


async def test_streams_listed_and_adopted_camera_removed(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    device = simulator.devices["camera-1"].profile
    declared = {
        "id": "declared",
        "name": "Declared",
        "host": "127.0.0.1",
        "port": 9,
        "enabled": False,
    }
    targets = [f"127.0.0.1:{simulator.discovery_port}"]
    gateway = await start_gateway(
        [declared], owner, discovery={"targets": targets, "listen_s": 0.5}
    )
    body = {
        "host": device.host,
        "port": device.onvif_port,
        "username": "admin",
        "password": "doorstep",
        "name": "Yard",
    }
    assert (await gateway.client.post("/api/cameras", json=body)).status == 201
    await gateway.state("yard", CameraState.ONLINE)
    cameras = {
        c["id"]: c for c in (await (await gateway.client.get("/api/cameras")).json())["cameras"]
    }
    streams = {s["name"]: (s["codec"], s["width"], s["height"]) for s in cameras["yard"]["streams"]}
    assert streams == {"main": ("H264", 640, 360), "sub": ("H264", 320, 180)}
    assert "rtsp://" not in json.dumps(cameras)  # stream addresses are not handed out
    assert (await gateway.client.delete("/api/cameras/declared", json={})).status == 409
    assert (await gateway.client.delete("/api/cameras/yard", json={})).status == 200
    assert "yard" not in gateway.app[DEVICES].supervisors
    assert (await gateway.client.delete("/api/cameras/yard", json={})).status == 404
    rows = await gateway.app[DATABASE].durable.fetchall(
        "SELECT action, target FROM audit ORDER BY seq"
    )
    assert ("camera.remove", "camera:yard") in [tuple(r) for r in rows]
