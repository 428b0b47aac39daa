"""A driver whose devices do what the test scripts: the supervisor's real peer is the SDK contract.

Not a mock of a network camera (the simulator is that); it is the smallest honest implementation
of `DriverFactory`/`Device`/`HasEvents`, with each connect outcome and event chosen by the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from doorstep.sdk import API_VERSION, DeviceConfig, DeviceEvent, DeviceInfo, DriverContext

INFO = DeviceInfo(manufacturer="Scripted", model="Cam", mac="02:00:00:00:00:01")


@dataclass
class Script:
    """What the next connects return or raise, and the event feed shared by all devices."""

    connects: list[DeviceInfo | BaseException] = field(default_factory=list)
    feed: asyncio.Queue[DeviceEvent | BaseException] = field(default_factory=asyncio.Queue)
    connect_calls: int = 0
    close_calls: int = 0
    close_s: float = 0.0
    """How long each close() takes (a driver unsubscribing from its camera)."""
    closes_finished: int = 0
    with_events: bool = True


class ScriptedDevice:
    """A device following a `Script`."""

    def __init__(self, script: Script) -> None:
        self._script = script

    async def connect(self) -> DeviceInfo:
        self._script.connect_calls += 1
        outcome = self._script.connects.pop(0) if self._script.connects else INFO
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def close(self) -> None:
        self._script.close_calls += 1
        if self._script.close_s:
            await asyncio.sleep(self._script.close_s)
        self._script.closes_finished += 1


class ScriptedEventDevice(ScriptedDevice):
    """A scripted device with the events capability."""

    async def events(self) -> AsyncIterator[DeviceEvent]:
        while True:
            item = await self._script.feed.get()
            if isinstance(item, BaseException):
                raise item
            yield item


class ScriptedDriver:
    """Factory of scripted devices."""

    name = "scripted"
    api_version = API_VERSION

    def __init__(self, script: Script) -> None:
        self.script = script

    def create(self, config: DeviceConfig, context: DriverContext) -> ScriptedDevice:
        if self.script.with_events:
            return ScriptedEventDevice(self.script)
        return ScriptedDevice(self.script)
