"""Fixtures for API fuzzing: a fresh gateway on loopback with a simulated doorbell online as
camera `garden` (so snapshots and live view answer for real) and an unreachable camera `front`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.simulator import Simulator

from ..gateway_client import until_online
from ..simulator.conftest import StartSimulator, media, simulator_factory  # noqa: F401

EXAMPLES = int(os.environ.get("DOORSTEP_API_FUZZ_EXAMPLES", "6"))
"""Examples per operation, mode (positive, negative) and role in CI; bench/api_fuzz.py runs more."""


FUZZ_PUSH_ORIGIN = "http://127.0.0.1:9"
"""The only push service the fuzzed gateway may call: loopback's discard port (refused at once)."""


def fuzz_config(data_dir: Path, simulator: Simulator) -> Config:
    """`garden` is the simulator's doorbell; `front` is RTSP on loopback's discard port (refused);
    discovery has nothing to probe and listens briefly; WebRTC on loopback; push may reach only
    loopback's discard port (the fuzzer's endpoints are pointed there): nothing leaves here."""
    doorbell = simulator.devices["doorbell-1"].profile
    garden = {"id": "garden", "name": "Garden", "host": doorbell.host, "port": doorbell.onvif_port,
              "username": doorbell.username, "password": doorbell.password}  # fmt: skip
    front = {"id": "front", "name": "Front", "driver": "rtsp", "host": "127.0.0.1", "port": 9}
    return Config.model_validate({
        "storage": {"data_dir": data_dir},
        "discovery": {"listen_s": 0.05},
        "live": {"host_addresses": ["127.0.0.1"]},
        "push": {"allowed_endpoint_hosts": [FUZZ_PUSH_ORIGIN]},
        "cameras": [garden, front],
    })  # fmt: skip


async def start_gateway(data_dir: Path, simulator: Simulator) -> web.Application:
    """Build the gateway's application (its components start with the server)."""
    return await asyncio.to_thread(build_app, fuzz_config(data_dir, simulator))


@pytest.fixture
async def gateway(
    aiohttp_server: Any,
    tmp_path: Path,
    simulator_factory: StartSimulator,  # noqa: F811
) -> AsyncIterator[tuple[str, web.Application]]:
    """A running gateway with `garden` online: its base URL and its application."""
    async with simulator_factory(cameras=0, doorbells=1) as simulator:
        app = await start_gateway(tmp_path / "data", simulator)
        server = await aiohttp_server(app)
        await until_online(app, "garden")
        yield str(server.make_url("")).rstrip("/"), app
        await server.close()  # before the simulator it talks to
