"""Helpers for tests that run a gateway: its config for the simulator's doorbell, and JSON calls
to its API the way the web UI makes them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.config.models import Config
from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import DEVICES
from doorstep.simulator import Simulator

Client = TestClient[web.Request, web.Application]
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def doorbell_config(simulator: Simulator, data_dir: Path) -> Config:
    """A gateway with the simulator's doorbell as camera `front`, WebRTC on loopback only.

    Recording is off: these gateways test live view, whose streams must close when the last
    viewer goes (a recorder keeps its camera's stream open). tests/recording turns it on."""
    doorbell = simulator.devices["doorbell-1"].profile
    return Config.model_validate({
        "storage": {"data_dir": data_dir},
        "recording": {"mode": "off"},
        "live": {"host_addresses": ["127.0.0.1"]},
        "cameras": [{"id": "front", "name": "Front", "host": doorbell.host,
                     "port": doorbell.onvif_port, "username": doorbell.username,
                     "password": doorbell.password}],
    })  # fmt: skip


async def call(client: Client, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One API call as the page makes it: (status, JSON body or None)."""
    kwargs: dict[str, Any] = {"headers": SAME_ORIGIN}
    if method != "GET":
        kwargs["json"] = {} if body is None else body
    async with client.request(method, path, **kwargs) as response:
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data


async def until_online(app: web.Application, camera_id: str) -> None:
    """Wait (up to 10 s) for the gateway to have the camera online with its streams."""
    supervisor = app[DEVICES].supervisors[camera_id]
    for _ in range(200):
        if supervisor.state is CameraState.ONLINE:
            break
        await asyncio.sleep(0.05)
    assert supervisor.state is CameraState.ONLINE, supervisor.reason
    assert supervisor.streams
