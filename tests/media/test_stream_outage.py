"""Hole 9 (media): a camera that accepts PLAY and then drops is logged once per outage, not once
a second, and retried with a growing backoff that only a session that really delivered frames
for a while resets. The hub's clock is the test's (StepClock): the waits are asserted, not
raced."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator

import pytest

from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import HubClock, StreamTarget
from doorstep.simulator import SimulatedDevice

from .probes import StepClock, gateway_lines, wait_until


def target(device: SimulatedDevice) -> StreamTarget:
    return StreamTarget(device.rtsp_url("main"), device.profile.username, device.profile.password)


async def test_play_then_drop_warns_once_and_backs_off(
    camera: SimulatedDevice, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep.gateway.media")
    settings = camera.rtsp_settings
    settings.hostile = "play_then_drop"  # PLAY answered, a few frames, then the socket drops
    clock = StepClock()
    hub = StreamHub(clock=clock.hub_clock())
    stream = hub.stream("camera-1/main", lambda: target(camera))
    errors: list[tuple[str | None, bool]] = []
    clock.on_wait = lambda: errors.append((stream.last_error, stream.unreachable))
    consumer = stream.consume()
    assert await wait_until(lambda: stream.failures >= 7, 60)
    consumer.close()
    await hub.close()
    warnings = gateway_lines(caplog, logging.WARNING)
    print(f"play_then_drop: {len(warnings)} warnings, waits {clock.waits}")
    assert len(warnings) <= 2, warnings
    assert stream.sessions_opened >= 3  # it does keep retrying
    # With a backoff, not once a second: each wait doubles, up to the cap.
    cap = hub_module.RETRY_MAX_S
    assert clock.waits[:6] == [1.0, 2.0, 4.0, 8.0, cap, cap], clock.waits
    # While it waits to retry, the stream says why (a frame flowing again clears it).
    backoff = [e for e, w in zip(errors, clock.waits, strict=True) if w != hub_module.LINGER_S]
    assert backoff, clock.waits
    assert all(error is not None for error, _ in backoff), backoff
    assert not any(unreachable for _, unreachable in backoff)  # it connects; the session fails


async def test_a_healthy_session_ends_the_outage(
    camera: SimulatedDevice, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "HEALTHY_SESSION_S", 1.5)
    caplog.set_level(logging.INFO, logger="doorstep.gateway.media")
    settings = camera.rtsp_settings
    settings.hostile = "play_then_drop"
    clock = StepClock()
    hub = StreamHub(clock=clock.hub_clock())
    stream = hub.stream("camera-1/main", lambda: target(camera))
    consumer = stream.consume()
    assert await wait_until(lambda: stream.failures >= 3, 20)
    assert clock.waits[:2] == [1.0, 2.0]  # backing off: 4 s next, and more
    settings.hostile = None  # the camera recovers
    assert await wait_until(lambda: stream.failures == 0, 30)
    assert stream.last_error is None
    assert any("is back" in line for line in gateway_lines(caplog))
    settings.hostile = "play_then_drop"  # and fails again: a new outage, a new warning
    for connection in list(camera._rtsp._connections):
        connection.writer.transport.abort()
    before, waited = settings.connections, len(clock.waits)
    assert await wait_until(lambda: settings.connections > before, 15)
    assert clock.waits[waited:][:1] == [hub_module.RETRY_MIN_S]  # the backoff was reset
    consumer.close()
    await hub.close()
    warnings = gateway_lines(caplog, logging.WARNING)
    assert len(warnings) == 2, warnings


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens (bound, never listening: refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_dead_stream_port_is_unreachable_logged_once_and_backed_off(
    dead_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep.gateway.media")
    clock = StepClock()
    hub = StreamHub(clock=clock.hub_clock())
    url = f"rtsp://127.0.0.1:{dead_port}/stream/main"
    stream = hub.stream("dead/main", lambda: StreamTarget(url, "admin", "secret"))
    consumer = stream.consume()
    assert await wait_until(lambda: stream.failures >= 8, 30)
    consumer.close()
    await hub.close()
    print(f"dead port: last_error {stream.last_error!r}, waits {clock.waits}")
    assert stream.unreachable
    assert stream.last_error == (
        f"camera stream unreachable at 127.0.0.1:{dead_port}: "
        "connection refused (nothing listens on that port)"
    )
    warnings = gateway_lines(caplog, logging.WARNING)
    assert len(warnings) == 1, warnings  # once per outage, however many retries
    assert "camera stream unreachable" in warnings[0]
    cap = hub_module.RETRY_MAX_S
    assert clock.waits[:7] == [1.0, 2.0, 4.0, 8.0, cap, cap, cap], clock.waits


async def test_a_camera_back_online_is_retried_at_once(camera: SimulatedDevice) -> None:
    """`retry_now` (its camera answered its driver again) ends the backoff wait: the stream
    does not sit out the rest of a long wait while the camera is back."""
    settings = camera.rtsp_settings
    settings.hostile = "play_then_drop"
    waits: list[float] = []

    async def never(seconds: float) -> None:  # a backoff wait that would last for ever
        waits.append(seconds)
        await asyncio.Event().wait()

    hub = StreamHub(clock=HubClock(sleep=never, jitter=lambda: 1.0))
    stream = hub.stream("camera-1/main", lambda: target(camera))
    consumer = stream.consume()
    assert await wait_until(lambda: bool(waits), 20)  # failed, and waiting to retry
    settings.hostile = None  # the camera is back
    before, frames = settings.connections, stream.frames
    stream.retry_now()
    assert await wait_until(lambda: settings.connections > before, 10)
    assert await wait_until(lambda: stream.frames > frames + 30, 10)  # frames flow again
    assert waits == [hub_module.RETRY_MIN_S]  # no second wait happened
    consumer.close()
    await hub.close()
