"""Fixtures for police requests: the gateway with two cameras' clips recorded at T0, the home's
location set, and an agency the owner added with its own account (second factor set up)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from doorstep.gateway.recording.clip_file import sha256_file
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipRecord
from doorstep.gateway.web.keys import SHARES, STORAGE
from doorstep.simulator.media import VideoLoop, encode_video_loop

from ..gateway_client import Client, call
from ..recording.clips import T0, write_clip
from ..settings.conftest import (  # noqa: F401  # fixtures
    Gateway,
    StartGateway,
    data_dir,
    media,
    simulator_factory,
    start_gateway,
)

CAMERAS = [
    {"id": "front", "name": "Front door", "driver": "rtsp", "host": "127.0.0.1", "port": 9},
    {"id": "back", "name": "Back yard", "driver": "rtsp", "host": "127.0.0.1", "port": 9},
]  # never reached (port 9 discards): the clips are written by the test
FRONT_CLIP, BACK_CLIP = "F" * 22, "B" * 22
HOME = (37.0, -122.0)
AGENCY_PASSWORD = "a long agency password"


def circle(radius_m: float = 300, lat: float = HOME[0], lon: float = HOME[1]) -> dict[str, Any]:
    """A circular request area around a point."""
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"radius_m": radius_m}}  # fmt: skip


def request_body(case: str = "24-0117", **changes: Any) -> dict[str, Any]:
    """A valid request for a window around the clips (it starts 1 s into them)."""
    body: dict[str, Any] = {
        "case_number": case, "incident_type": "package theft",
        "description": "A parcel was taken from a porch on Elm Street.",
        "officer": {"name": "Det. R. Alvarez", "badge": "4471", "contact": "ralvarez@pd.example"},
        "legal_basis": "voluntary", "area": circle(),
        "window": {"start": (T0 + timedelta(seconds=1)).isoformat(),
                   "end": (T0 + timedelta(minutes=31)).isoformat()},
        "content": ["clips"], "retention": "until the case closes",
    }  # fmt: skip
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def loop() -> VideoLoop:
    return encode_video_loop(320, 180, 15, seconds=3)


async def register(gateway: Gateway, loop: VideoLoop, camera: str, clip_id: str) -> ClipRecord:
    """Write a clip file as the recorder does and register it (with its SHA-256)."""
    root = gateway.app[STORAGE].database.path.parent / CLIPS_DIR
    path = await asyncio.to_thread(write_clip, root, loop, clip_id, close=True, camera=camera)
    record = ClipRecord(
        clip_id, camera, path.relative_to(root).as_posix(), T0, T0 + timedelta(seconds=3),
        size_bytes=path.stat().st_size, sha256=await asyncio.to_thread(sha256_file, path),
        duration_ms=3000, frames=45, clock_offset_s=0.4,
    )  # fmt: skip
    await gateway.app[STORAGE].clips.add(record)
    return record


@dataclass
class Case:
    """The running gateway, the owner and an agency's signed-in account."""

    gateway: Gateway
    owner: Client
    agency: Client
    agency_id: int


async def enrol(client: Client) -> pyotp.TOTP:
    """Set up the second factor an agency account needs before anything else."""
    status, started = await call(client, "POST", "/api/me/totp")
    assert status == 200
    otp = pyotp.TOTP(started["secret"])
    assert (await call(client, "POST", "/api/me/totp/confirm", {"code": otp.now()}))[0] == 200
    return otp


async def add_agency(owner: Client, gateway: Gateway, name: str, username: str | None,
                     **extra: Any) -> tuple[int, Client | None]:  # fmt: skip
    """The owner adds an agency (with an account); the account signs in and enrols."""
    note = "badge checked at the front desk"
    body: dict[str, Any] = {"name": name, "verification": "in_person",
                            "verification_note": note, **extra}  # fmt: skip
    if username:
        body["account"] = {"username": username, "password": AGENCY_PASSWORD}
    status, agency = await call(owner, "POST", "/api/agencies", body)
    assert status == 201, agency
    if username is None:
        return agency["id"], None
    client = await gateway.browser()
    signed_in = {"username": username, "password": AGENCY_PASSWORD}
    assert (await call(client, "POST", "/api/session", signed_in))[0] == 200
    await enrol(client)
    return agency["id"], client


@pytest.fixture
async def case(start_gateway: StartGateway, loop: VideoLoop) -> Case:  # noqa: F811
    gateway = await start_gateway(cameras=CAMERAS, recording={"mode": "off"})
    await register(gateway, loop, "front", FRONT_CLIP)
    await register(gateway, loop, "back", BACK_CLIP)
    owner, _ = await gateway.owner()
    await gateway.app[SHARES].places.set_home(HOME[0], HOME[1], "Elm Street", "alice", "")
    agency_id, agency = await add_agency(owner, gateway, "Springfield PD", "springfield-pd")
    assert agency is not None
    return Case(gateway, owner, agency, agency_id)
