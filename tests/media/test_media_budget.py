"""Hole 3a: a camera that sends one IDR and then hundreds of huge frames stays within its byte
budget (GOP cache, consumer queues, the RTSP packet queue), logs once, and costs another camera
nothing."""

from __future__ import annotations

import gc
import logging
import time

import pytest

from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.simulator import SimulatedDevice, Simulator

from .probes import FrameCounter, RssSampler, device_rate, gateway_lines, wait_until


def target(device: SimulatedDevice) -> StreamTarget:
    return StreamTarget(device.rtsp_url("main"), device.profile.username, device.profile.password)


async def test_huge_frames_stay_in_budget_and_spare_the_other_camera(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="doorstep.gateway")
    hostile, normal = simulator.devices["camera-1"], simulator.devices["doorbell-1"]
    settings = hostile.rtsp_settings
    settings.hostile = "huge_frames"  # 1 IDR, then 300 frames of 1 MiB at 60 fps
    hub = StreamHub()
    normal_stream = hub.stream("doorbell-1/main", lambda: target(normal))
    hostile_stream = hub.stream("camera-1/main", lambda: target(hostile))
    async with FrameCounter(normal_stream.consume()) as watched:
        assert await wait_until(lambda: watched.count >= 5, 15)
        gc.collect()
        with RssSampler() as rss:
            # A viewer of the hostile camera that reads in real time (30 ms a frame).
            async with FrameCounter(hostile_stream.consume(), delay_s=0.03) as viewer:
                before, started = watched.count, time.monotonic()
                assert await wait_until(
                    lambda: settings.hostile_sent >= settings.hostile_frames, 60
                )
                elapsed = time.monotonic() - started
                normal_frames = watched.count - before
                # After the burst the camera sends its normal stream: the viewer resumes at a
                # keyframe and the cache fills again.
                keyframes = viewer.keyframes
                assert await wait_until(lambda: viewer.keyframes > keyframes, 15)
        await hub.close()
    growth = rss.growth_mib
    print(f"huge_frames: peak RSS growth {growth:.0f} MiB over {elapsed:.1f} s; "
          f"other camera {normal_frames / elapsed:.1f} fps")  # fmt: skip
    assert growth < 200, f"peak RSS grew {growth:.0f} MiB"
    assert normal_frames >= 0.6 * device_rate(normal) * elapsed, (normal_frames, elapsed)
    lines = gateway_lines(caplog)
    assert len(lines) <= 3, lines
    warnings = gateway_lines(caplog, logging.WARNING)
    assert sum("budget" in line for line in warnings) == 1, warnings  # once, not per frame
