"""The one place that maps onvif-zeep-async's errors onto the SDK's: malformed device data is a
ProtocolError (a typed line, no traceback), while a bug in our own code still shows as itself."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from doorstep.drivers.onvif import OnvifDriver
from doorstep.drivers.onvif import session as session_module
from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.drivers.onvif.session import _mapped
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.devices.backoff import Backoff
from doorstep.gateway.devices.supervisor import DeviceSupervisor
from doorstep.sdk import DriverContext, ProtocolError
from doorstep.simulator import SimulatedDevice

from .conftest import device_config


async def test_a_truncated_soap_answer_is_a_protocol_error(
    camera: SimulatedDevice, context: DriverContext
) -> None:
    camera.hostile = "malformed"  # every SOAP answer is an envelope cut short
    device = OnvifDevice(device_config(camera), context)
    try:
        with pytest.raises(ProtocolError) as raised:
            await device.connect()
    finally:
        await device.close()
    assert "IndexError" in str(raised.value)  # names what broke, quotes nothing
    assert "<" not in str(raised.value)


def first(items: list[int]) -> int:
    """A driver helper with a bug: it assumes a non-empty list."""
    return items[0]


async def test_an_index_error_in_our_own_code_is_not_hidden() -> None:
    with pytest.raises(IndexError):
        async with _mapped("testing"):
            first([])


class Reading:
    """A driver helper with bugs of the three kinds the mapping used to swallow."""

    def attribute(self) -> object:
        return self.missing  # type: ignore[attr-defined]

    def type_error(self) -> object:
        return len(3)  # type: ignore[arg-type]

    def key(self) -> object:
        return {}["Uri"]


@pytest.mark.parametrize(
    ("bug", "kind"),
    [("attribute", AttributeError), ("type_error", TypeError), ("key", KeyError)],
)
async def test_a_bug_in_our_own_code_surfaces_as_itself(bug: str, kind: type[Exception]) -> None:
    # A ProtocolError would be a device fault, retried forever without a traceback.
    with pytest.raises(kind):
        async with _mapped("testing"):
            getattr(Reading(), bug)()


async def test_a_driver_bug_reaches_the_supervisor_as_a_bug(
    camera: SimulatedDevice,
    context: DriverContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_text(value: object, limit: int = 256) -> str | None:
        raise TypeError("a bug in the driver")

    monkeypatch.setattr(session_module, "_text", broken_text)
    sleeps: list[float] = []
    retried = asyncio.Event()

    async def sleep(delay: float) -> None:
        sleeps.append(delay)
        if len(sleeps) >= 3:
            retried.set()
        await asyncio.sleep(0.01)

    supervisor = DeviceSupervisor(
        device_config(camera),
        OnvifDriver(),
        context,
        EventBus(),
        Backoff(1.0, 60.0, random.Random(0)),
        sleep=sleep,
    )
    with caplog.at_level(logging.DEBUG, logger="doorstep.gateway.devices"):
        supervisor.start()
        try:
            await asyncio.wait_for(retried.wait(), 30)
        finally:
            await supervisor.stop()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "driver error TypeError" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None  # with its traceback, once
    assert sleeps == sorted(sleeps)
    assert sleeps[-1] > sleeps[0]  # backed off, not hammered
