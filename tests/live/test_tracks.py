"""The viewer's clock: camera timestamps that wrap or jump (a restarted camera) never make a
browser see time run backwards or stand still, checked as numbers and against a rebooting
simulated doorbell through the real hub."""

from __future__ import annotations

import asyncio
import itertools

from doorstep.gateway.live.track import VIDEO_CLOCK, PassthroughVideoTrack, Timeline
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.simulator import SimulatedDevice

FRAME = VIDEO_CLOCK // 15  # 15 fps


def test_steps_follow_the_camera_across_the_32_bit_wrap() -> None:
    timeline = Timeline(VIDEO_CLOCK)
    start = 2**32 - 2 * FRAME
    stamps = [(start + i * FRAME) % 2**32 for i in range(5)]
    steps = [timeline.step(t, now=i / 15) for i, t in enumerate(stamps)]
    assert steps == [0, FRAME, FRAME, FRAME, FRAME]
    assert timeline.jumps == 0


def test_a_clock_jump_either_way_becomes_the_wall_clock_gap() -> None:
    timeline = Timeline(VIDEO_CLOCK)
    timeline.step(1_000_000, now=100.0)
    backwards = timeline.step(5_000, now=101.5)  # the camera restarted: a new random base
    assert backwards == round(1.5 * VIDEO_CLOCK)
    timeline.step(5_000 + FRAME, now=101.5 + 1 / 15)
    forwards = timeline.step(3_000_000_000, now=102.0)  # hours ahead: a jump, not a gap
    assert forwards == round((102.0 - 101.5 - 1 / 15) * VIDEO_CLOCK)
    assert timeline.jumps == 2


def test_equal_timestamps_still_move_the_clock() -> None:
    timeline = Timeline(VIDEO_CLOCK)
    timeline.step(42, now=0.0)
    assert timeline.step(42, now=0.0) == 1


async def test_a_viewer_s_clock_runs_on_through_a_camera_reboot(
    doorbell: SimulatedDevice,
) -> None:
    hub = StreamHub()
    target = StreamTarget(
        doorbell.rtsp_url("main"), doorbell.profile.username, doorbell.profile.password
    )
    stream = hub.stream("doorbell/main", lambda: target)
    track = PassthroughVideoTrack(stream.consume())
    try:
        stamps = [(await asyncio.wait_for(track.recv(), 10)).pts for _ in range(10)]
        doorbell.schedule_reboot(1.0)  # down a second; back with a new RTP clock
        while stream.sessions_opened < 2:  # the hub's reconnect is the event
            stamps.append((await asyncio.wait_for(track.recv(), 15)).pts)
        stamps += [(await asyncio.wait_for(track.recv(), 10)).pts for _ in range(10)]
    finally:
        track.stop()
        await hub.close()
    steps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(step > 0 for step in steps), steps
    assert max(steps) < 10 * VIDEO_CLOCK, steps  # the outage, not the clocks' difference
    assert max(steps) > VIDEO_CLOCK  # the reboot's second of silence is there
    assert track.timeline.jumps <= 1
