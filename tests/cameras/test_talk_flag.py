"""The supervisor asks only the driver's `HasTalk` for talk; the flag a camera view shows keeps
its meaning (True: a speaker, False: none, None: unknown until tried)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import pytest

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.devices.backoff import Backoff
from doorstep.gateway.devices.supervisor import DeviceSupervisor
from doorstep.gateway.events import CameraState
from doorstep.sdk import (
    API_VERSION,
    DeviceConfig,
    DeviceInfo,
    DriverContext,
    StreamSource,
    TalkSink,
    Unsupported,
)


class Sink:
    """A speaker that takes anything."""

    codec = "PCMU"
    sample_rate = 8000

    async def send(self, payload: bytes) -> None:
        """Nothing to send to."""

    async def close(self) -> None:
        """Nothing to close."""


class StreamingCamera:
    """Streams only; whether its main stream declares a backchannel is the test's."""

    def __init__(self, backchannel: bool | None, context: DriverContext) -> None:
        self.backchannel = backchannel
        self.context = context

    async def connect(self) -> DeviceInfo:
        return DeviceInfo(manufacturer="Test", model="T")

    async def close(self) -> None:
        """Nothing held."""

    async def streams(self) -> Sequence[StreamSource]:
        return [StreamSource(name="main", url="rtsp://192.0.2.1/", backchannel=self.backchannel)]


class TalkingCamera(StreamingCamera):
    """A camera with its driver's own talk."""

    async def open_talk(self) -> TalkSink:
        if self.backchannel is False:
            raise Unsupported("no speaker")
        return Sink()


class Driver:
    """Makes the camera kind under test, and keeps the last one."""

    name = "test"
    api_version = API_VERSION

    def __init__(self, kind: type[StreamingCamera], backchannel: bool | None) -> None:
        self.kind, self.backchannel = kind, backchannel
        self.made: list[StreamingCamera] = []

    def create(self, config: DeviceConfig, context: DriverContext) -> StreamingCamera:
        self.made.append(self.kind(self.backchannel, context))
        return self.made[-1]


async def online(driver: Driver, tmp_path: Path, **kwargs: bool) -> DeviceSupervisor:
    async with aiohttp.ClientSession() as http:
        context = DriverContext(http, logging.getLogger("test"), tmp_path)
        supervisor = DeviceSupervisor(
            DeviceConfig(id="cam", host="192.0.2.1"), driver, context, EventBus(),
            Backoff(1.0, 2.0), **kwargs,
        )  # fmt: skip
        supervisor.start()
        for _ in range(400):
            if supervisor.state is CameraState.ONLINE:
                return supervisor
            await asyncio.sleep(0.01)
    raise AssertionError(f"not online: {supervisor.state} {supervisor.reason}")


@pytest.mark.parametrize(
    ("kind", "backchannel", "talk"),
    [
        (TalkingCamera, True, True),
        (TalkingCamera, False, False),
        (TalkingCamera, None, None),  # talk offered, the stream does not say: try it
        (StreamingCamera, True, False),  # no HasTalk: before, the core tried RTSP itself
        (StreamingCamera, None, False),
    ],
)
async def test_the_talk_flag(
    tmp_path: Path, kind: type[StreamingCamera], backchannel: bool | None, talk: bool | None
) -> None:
    supervisor = await online(Driver(kind, backchannel), tmp_path)
    try:
        assert supervisor.talk is talk
        if talk is not False:
            sink = await supervisor.open_talk()
            assert sink.codec == "PCMU"
        else:
            with pytest.raises(Unsupported):
                await supervisor.open_talk()
    finally:
        await supervisor.stop()


async def test_the_driver_is_told_whether_rtsp_basic_is_allowed(tmp_path: Path) -> None:
    for allowed in (True, False):
        driver = Driver(TalkingCamera, True)
        supervisor = await online(driver, tmp_path, rtsp_allow_basic=allowed)
        await supervisor.stop()
        assert driver.made[-1].context.rtsp_allow_basic is allowed
