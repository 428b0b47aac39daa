"""The generic RTSP driver against loopback servers: an RTSP answer, silence, and an HTTP server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from doorstep.drivers.rtsp import RtspDriver, RtspOptions
from doorstep.sdk import (
    DeviceConfig,
    DeviceUnavailable,
    DriverContext,
    HasDiagnostics,
    HasEvents,
    HasStreams,
    ProtocolError,
    Unsupported,
    capabilities_of,
    needs_host,
    options_model_of,
)

Responder = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def rtsp_options_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    assert request.startswith(b"OPTIONS rtsp://127.0.0.1:")
    writer.write(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n")
    await writer.drain()
    writer.close()


async def http_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


@pytest.fixture
async def context(tmp_path: Path) -> AsyncIterator[DriverContext]:
    async with aiohttp.ClientSession() as http:
        yield DriverContext(http, logging.getLogger("doorstep.drivers.rtsp"), tmp_path)


async def serve(responder: Responder) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(responder, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def config(port: int, **options: str) -> DeviceConfig:
    return DeviceConfig(
        id="garden", host="127.0.0.1", port=port, username="viewer", password="pw", options=options
    )


async def test_connects_and_lists_streams(context: DriverContext) -> None:
    server, port = await serve(rtsp_options_answer)
    async with server:
        device = RtspDriver().create(
            config(port, main_path="/stream1", sub_path="/stream2"), context
        )
        info = await device.connect()
        assert (info.manufacturer, info.model) == ("Generic", "RTSP camera")
        streams = await device.streams()
        assert [s.url for s in streams] == [
            f"rtsp://127.0.0.1:{port}/stream1",
            f"rtsp://127.0.0.1:{port}/stream2",
        ]
        assert streams[0].password is not None
        assert "pw" not in repr(streams[0])
        assert isinstance(device, HasStreams)
        assert not isinstance(device, HasEvents)
        # Talk through the stream's backchannel, if the camera has one: known only when tried.
        assert capabilities_of(device) == frozenset({"streams", "talk"})
        await device.close()


async def test_nothing_listening_is_unavailable(context: DriverContext, unused_port: int) -> None:
    device = RtspDriver().create(config(unused_port), context)
    with pytest.raises(DeviceUnavailable, match=f"127.0.0.1:{unused_port}"):
        await device.connect()


async def test_non_rtsp_server_is_a_protocol_error(context: DriverContext) -> None:
    server, port = await serve(http_answer)
    async with server:
        device = RtspDriver().create(config(port), context)
        with pytest.raises(ProtocolError, match="did not answer as an RTSP server"):
            await device.connect()


async def test_bad_stream_path_is_refused(context: DriverContext) -> None:
    # The gateway checks options before create(); a driver created anyway refuses them there.
    with pytest.raises(Unsupported, match="main_path: Value error, must be an absolute RTSP path"):
        RtspDriver().create(config(1554, main_path="stream1\r\nX: y"), context)


def test_options_model_is_strict() -> None:
    assert RtspOptions().main_path == "/"
    assert RtspOptions(main_path="/a", sub_path="/b").sub_path == "/b"
    for bad in ({"main_path": "a"}, {"sub_path": "/a b"}, {"mainpath": "/a"}, {"main_path": 5}):
        with pytest.raises(ValidationError):
            RtspOptions.model_validate(bad)
    assert options_model_of(RtspDriver()) is RtspOptions
    assert needs_host(RtspDriver())


async def test_diagnostics_name_the_streams_and_the_probe(context: DriverContext) -> None:
    server, port = await serve(rtsp_options_answer)
    async with server:
        device = RtspDriver().create(config(port, main_path="/stream1"), context)
        assert isinstance(device, HasDiagnostics)
        assert (await device.diagnostics())["probes"] == 0
        await device.connect()
        assert await device.diagnostics() == {
            "streams": [f"rtsp://127.0.0.1:{port}/stream1"],
            "probes": 1,
            "last_probe_status": "200 OK",
        }
        await device.close()
