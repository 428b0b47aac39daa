"""Hole 9 (media): a camera that accepts PLAY and then drops is logged once per outage, not once
a second, and retried with a growing backoff that only a session that really delivered frames
for a while resets."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.media.hub import StreamHub, StreamTarget
from doorstep.simulator import SimulatedDevice

from .probes import gateway_lines, wait_until


def target(device: SimulatedDevice) -> StreamTarget:
    return StreamTarget(device.rtsp_url("main"), device.profile.username, device.profile.password)


async def test_play_then_drop_warns_once_and_backs_off(
    camera: SimulatedDevice, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep.gateway.media")
    settings = camera.rtsp_settings
    settings.hostile = "play_then_drop"  # PLAY answered, a few frames, then the socket drops
    hub = StreamHub()
    stream = hub.stream("camera-1/main", lambda: target(camera))
    consumer = stream.consume()
    await asyncio.sleep(10)
    attempts = settings.connections
    consumer.close()
    await hub.close()
    warnings = gateway_lines(caplog, logging.WARNING)
    print(f"play_then_drop: {len(warnings)} warnings, {attempts} sessions in 10 s")
    assert len(warnings) <= 2, warnings
    assert stream.sessions_opened >= 3  # it does keep retrying
    assert attempts <= 7, attempts  # with a backoff, not once a second
    assert stream.last_error is not None


async def test_a_healthy_session_ends_the_outage(
    camera: SimulatedDevice, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "HEALTHY_SESSION_S", 1.5)
    caplog.set_level(logging.INFO, logger="doorstep.gateway.media")
    settings = camera.rtsp_settings
    settings.hostile = "play_then_drop"
    hub = StreamHub()
    stream = hub.stream("camera-1/main", lambda: target(camera))
    consumer = stream.consume()
    assert await wait_until(lambda: stream.failures >= 3, 20)  # backing off: 4 s and more
    settings.hostile = None  # the camera recovers
    assert await wait_until(lambda: stream.failures == 0, 30)
    assert stream.last_error is None
    assert any("is back" in line for line in gateway_lines(caplog))
    settings.hostile = "play_then_drop"  # and fails again: a new outage, a new warning
    for connection in list(camera._rtsp._connections):
        connection.writer.transport.abort()
    before, started = settings.connections, time.monotonic()
    assert await wait_until(lambda: settings.connections > before, 15)
    assert time.monotonic() - started < 3  # the backoff was reset: retried within a second
    consumer.close()
    await hub.close()
    warnings = gateway_lines(caplog, logging.WARNING)
    assert len(warnings) == 2, warnings
