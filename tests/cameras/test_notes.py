"""The driver's diagnostics `notes` reach the camera's info as short plain text: bounded in
number and length, whitespace flattened, the camera's password never repeated."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.devices.backoff import Backoff
from doorstep.gateway.devices.supervisor import MAX_NOTE_CHARS, MAX_NOTES, DeviceSupervisor
from doorstep.gateway.events import CameraState
from doorstep.sdk import API_VERSION, DeviceConfig, DeviceInfo, DriverContext

PASSWORD = "hunter2-secret"


class NotingCamera:
    """A camera whose diagnostics say whatever the test wants, until it has snapshots."""

    def __init__(self, notes: object) -> None:
        self.notes = notes

    async def connect(self) -> DeviceInfo:
        return DeviceInfo(manufacturer="Test", model="T")

    async def close(self) -> None:
        """Nothing held."""

    async def snapshot(self) -> bytes:
        self.notes = ["now it says something else"]
        return b"\xff\xd8"

    async def diagnostics(self) -> Mapping[str, object]:
        return {"notes": self.notes, "other": 1}


class Driver:
    """Makes one camera with the test's notes."""

    name = "test"
    api_version = API_VERSION

    def __init__(self, notes: object) -> None:
        self.notes = notes

    def create(self, config: DeviceConfig, context: DriverContext) -> NotingCamera:
        return NotingCamera(self.notes)


async def supervised(notes: object, tmp_path: Path) -> DeviceSupervisor:
    async with aiohttp.ClientSession() as http:
        context = DriverContext(http, logging.getLogger("test"), tmp_path)
        config = DeviceConfig(id="cam", host="192.0.2.1", password=SecretStr(PASSWORD))
        supervisor = DeviceSupervisor(config, Driver(notes), context, EventBus(), Backoff(1, 2))
        assert supervisor.notes == []
        supervisor.start()
        for _ in range(400):
            if supervisor.state is CameraState.ONLINE:
                return supervisor
            await asyncio.sleep(0.01)
    raise AssertionError(f"not online: {supervisor.state} {supervisor.reason}")


async def test_notes_are_bounded_plain_text(tmp_path: Path) -> None:
    notes: list[object] = [f"uses\n{PASSWORD}\tfor  snapshots", 7, "x" * 5000]
    notes += [f"note {i}" for i in range(20)]
    supervisor = await supervised(notes, tmp_path)
    try:
        assert supervisor.notes[:2] == ["uses *** for snapshots", "x" * MAX_NOTE_CHARS]
        assert len(supervisor.notes) == MAX_NOTES - 1  # the number was dropped, not printed
        assert all(PASSWORD not in note for note in supervisor.notes)
        # A snapshot can change what the driver knows; the notes follow it.
        await supervisor.snapshot()
        assert supervisor.notes == ["now it says something else"]
    finally:
        await supervisor.stop()


async def test_notes_that_are_not_a_list_are_none(tmp_path: Path) -> None:
    supervisor = await supervised("<b>not a list</b>", tmp_path)
    try:
        assert supervisor.notes == []
    finally:
        await supervisor.stop()
