"""The one place that maps onvif-zeep-async's errors onto the SDK's: malformed device data is a
ProtocolError (a typed line, no traceback), while a bug in our own code still shows as itself."""

from __future__ import annotations

import pytest

from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.drivers.onvif.session import _mapped
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
