"""Hostile RTSP cameras, one test per mode: the gateway's memory stays bounded, another camera's
frames keep flowing, a bounded number of log lines is written, and the stream recovers once the
camera behaves (retrying while it does not)."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.simulator import SimulatedDevice, Simulator
from doorstep.simulator.rtsp_hostile import RTSP_HOSTILE_MODES

from .probes import FrameCounter, RssSampler, device_rate, gateway_lines, wait_until

WINDOW_S = 5.0
FAILING = {
    "huge_header": "connection lost",
    "content_length_past_body": "timed out",
    "redirect_loop": "302",
    "slow_loris": "timed out",
    "silent": "timed out",
    "slow_loris_media": "no packet in time",
    "play_then_drop": "connection closed",
}
"""Modes in which no session can work, with what the stream's last error says."""
STREAMING = {"empty_sprop", "huge_sprop", "bad_rtp", "interleaved_extremes"}
"""Modes in which frames still flow: the junk is skipped."""


def target(device: SimulatedDevice) -> StreamTarget:
    return StreamTarget(device.rtsp_url("main"), device.profile.username, device.profile.password)


def test_every_mode_has_a_test() -> None:
    # huge_frames has its own test (test_media_budget.py).
    assert {*FAILING, *STREAMING, "huge_frames"} == RTSP_HOSTILE_MODES


@pytest.mark.parametrize("mode", sorted({*FAILING, *STREAMING}))
async def test_a_hostile_camera_is_contained(
    mode: str,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_module, "RTSP_TIMEOUT_S", 2.0)
    monkeypatch.setattr(hub_module, "VIDEO_TIMEOUT_S", 2.0)
    caplog.set_level(logging.INFO, logger="doorstep.gateway")
    hostile, normal = simulator.devices["camera-1"], simulator.devices["doorbell-1"]
    settings = hostile.rtsp_settings
    settings.hostile = mode
    hub = StreamHub()
    stream = hub.stream("camera-1/main", lambda: target(hostile))
    other = hub.stream("doorbell-1/main", lambda: target(normal))
    async with FrameCounter(other.consume()) as watched:
        assert await wait_until(lambda: watched.count >= 3, 15)
        gc.collect()
        with RssSampler() as rss:
            async with FrameCounter(stream.consume()) as viewer:
                before = watched.count
                loop = asyncio.get_running_loop()
                started = loop.time()
                # What the stream says while it is down (a mode that plays a few frames before
                # dropping clears it for a moment each time, so sample the whole window).
                error: str | None = None
                while loop.time() - started < WINDOW_S:
                    error = error or stream.last_error
                    await asyncio.sleep(0.05)
                elapsed = loop.time() - started
                normal_frames = watched.count - before
                during = viewer.count
                attempts = settings.connections
                settings.hostile = None  # the camera behaves again: the stream recovers
                assert await wait_until(lambda: viewer.keyframes >= 1 and viewer.count > during, 30)
        await hub.close()
    lines = gateway_lines(caplog)
    print(f"{mode}: RSS +{rss.growth_mib:.0f} MiB, {len(lines)} log lines, {attempts} sessions, "
          f"{during} frames from it, other camera {normal_frames / elapsed:.1f} fps")  # fmt: skip
    assert rss.growth_mib < 100
    assert normal_frames >= 0.6 * device_rate(normal) * elapsed, (normal_frames, elapsed)
    assert len(lines) <= 3, lines
    if mode in FAILING:
        assert attempts >= 2, attempts  # it kept retrying
        assert error is not None
        assert FAILING[mode] in error, error
        assert during == 0 or mode == "play_then_drop"
    else:
        assert during >= 0.5 * device_rate(hostile) * WINDOW_S, during
        assert error is None
