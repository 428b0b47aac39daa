"""Snapshots are read whole, up to a byte cap: a JPEG that arrives in chunks comes back intact,
and an endless one is refused with a typed error that quotes none of it."""

from __future__ import annotations

import pytest

from doorstep.drivers.onvif import snapshot as snapshot_module
from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.sdk import DriverContext, ProtocolError
from doorstep.simulator import SimulatedDevice

from .conftest import device_config


async def test_a_jpeg_sent_in_slow_chunks_comes_back_whole(
    camera: SimulatedDevice, context: DriverContext
) -> None:
    expected = camera.media.jpeg(camera.profile.width, camera.profile.height)
    assert len(expected) > 4 * 1024  # several chunks
    camera.snapshot_chunk_s = 0.05
    device = OnvifDevice(device_config(camera), context)
    await device.connect()
    try:
        body = await device.snapshot()
    finally:
        await device.close()
    print(f"chunked snapshot: {len(body)} of {len(expected)} bytes")
    assert body == expected


async def test_an_endless_snapshot_is_refused_at_the_cap(
    camera: SimulatedDevice,
    context: DriverContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(snapshot_module, "MAX_SNAPSHOT_BYTES", 1024 * 1024)  # keeps the test quick
    camera.hostile = "endless_snapshot"
    device = OnvifDevice(device_config(camera), context)
    await device.connect()
    try:
        with pytest.raises(ProtocolError) as raised:
            await device.snapshot()
    finally:
        await device.close()
    message = str(raised.value)
    print(f"endless snapshot refused: {message}")
    assert "1 MiB" in message, message
    assert "\\x00" not in message  # no payload in the error
    assert len(message) < 200
