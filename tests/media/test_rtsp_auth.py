"""Hole 8: a server that answers as the camera with a Basic challenge gets no password over plain
RTSP unless the camera is configured to allow it; Digest is preferred whenever it is offered."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from pathlib import Path

import aiohttp
import pytest

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.config.models import Config
from doorstep.gateway.devices.manager import DeviceManager
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.protocols.backchannel import RtspBackchannel
from doorstep.protocols.rtsp_client import RtspBasicRefused, RtspClient
from doorstep.simulator import SimulatedDevice

from .probes import wait_until


@pytest.fixture
def impostor(doorbell: SimulatedDevice) -> SimulatedDevice:
    """The doorbell, answering every request with a Basic challenge."""
    doorbell.rtsp_settings.auth_scheme = "basic"
    return doorbell


def credentials(device: SimulatedDevice) -> tuple[str, str]:
    return device.profile.username, device.profile.password


async def test_basic_is_refused_without_sending_the_password(impostor: SimulatedDevice) -> None:
    client = RtspClient(impostor.rtsp_url("main"), *credentials(impostor))
    async with client:
        with pytest.raises(RtspBasicRefused, match="sends the password in clear"):
            await client.describe()
    assert impostor.rtsp_settings.connections == 1
    assert impostor.rtsp_settings.authorizations == []  # not even a wrong one


async def test_basic_is_answered_when_the_camera_allows_it(impostor: SimulatedDevice) -> None:
    async with RtspClient(impostor.rtsp_url("main"), *credentials(impostor), allow_basic=True) as c:
        media = await c.describe()
    assert any(m.kind == "video" for m in media)
    expected = base64.b64encode(":".join(credentials(impostor)).encode()).decode()
    assert impostor.rtsp_settings.authorizations == [f"Basic {expected}"]


async def test_the_hub_keeps_the_reason_for_the_camera_state(impostor: SimulatedDevice) -> None:
    hub = StreamHub()
    stream = hub.stream(
        "doorbell-1/main", lambda: StreamTarget(impostor.rtsp_url("main"), *credentials(impostor))
    )
    consumer = stream.consume()
    assert await wait_until(lambda: stream.last_error is not None, 10)
    assert "rtsp_allow_basic" in (stream.last_error or "")
    assert impostor.rtsp_settings.authorizations == []
    consumer.close()
    await hub.close()

    allowed = StreamHub()
    stream = allowed.stream(
        "doorbell-1/main",
        lambda: StreamTarget(impostor.rtsp_url("main"), *credentials(impostor), allow_basic=True),
    )
    consumer = stream.consume()
    unit = await asyncio.wait_for(consumer.get(), 10)
    assert unit.keyframe
    assert stream.last_error is None
    consumer.close()
    await allowed.close()


async def test_the_backchannel_refuses_basic_too(impostor: SimulatedDevice) -> None:
    with pytest.raises(RtspBasicRefused):
        await RtspBackchannel.open(impostor.rtsp_url("main"), *credentials(impostor))
    assert impostor.rtsp_settings.authorizations == []
    channel = await RtspBackchannel.open(
        impostor.rtsp_url("main"), *credentials(impostor), allow_basic=True
    )
    await channel.close()
    assert impostor.rtsp_settings.authorizations[0].startswith("Basic ")


async def test_digest_is_preferred_when_both_are_offered() -> None:
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await answer(reader, writer)
        writer.close()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while request := await reader.readuntil(b"\r\n\r\n"):
            received.append(request)
            cseq = next(
                line.split(b":")[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"cseq")
            )
            writer.write(
                b"RTSP/1.0 401 Unauthorized\r\nCSeq: " + cseq + b"\r\n"
                b'WWW-Authenticate: Basic realm="cam"\r\n'
                b'WWW-Authenticate: Digest realm="cam", nonce="abc"\r\n\r\n'
            )
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with RtspClient(f"rtsp://127.0.0.1:{port}/s", "admin", "secret") as client:
        with pytest.raises(Exception, match="401"):
            await client.describe()
    server.close()
    await server.wait_closed()
    assert len(received) == 2
    assert b"Authorization: Digest " in received[1]
    assert b"Basic" not in received[1]


async def test_the_camera_option_reaches_its_supervisor(tmp_path: Path) -> None:
    cameras = [
        {"id": "porch", "name": "Porch", "host": "127.0.0.1", "rtsp_allow_basic": True},
        {"id": "garden", "name": "Garden", "host": "127.0.0.1"},
    ]
    config = Config.model_validate({"storage": {"data_dir": tmp_path}, "cameras": cameras})
    async with aiohttp.ClientSession() as http:
        manager = DeviceManager(
            config.cameras, DriverRegistry(), EventBus(), http, tmp_path, config.supervisor
        )
        assert manager.supervisors["porch"].rtsp_allow_basic is True
        assert manager.supervisors["garden"].rtsp_allow_basic is False  # off unless asked for
