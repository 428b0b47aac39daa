"""The recorder against the simulator: clips from the hub's one session, pre-roll and post-roll,
continuous segments without gaps, a stalled stream, and every frame decodable by FFmpeg."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from doorstep.gateway.media.hub import CameraStream, StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.gateway.recording.clip_file import ClosedClip
from doorstep.gateway.recording.policy import RecordingPolicy
from doorstep.gateway.recording.recorder import CameraRecorder, ClipDraft
from doorstep.gateway.recording.writer import WriteFailed
from doorstep.simulator import SimulatedDevice

from ..media.probes import wait_until
from .clips import decode_clip

FPS = 15


def target(device: SimulatedDevice) -> StreamTarget:
    return StreamTarget(device.rtsp_url("main"), device.profile.username, device.profile.password)


@dataclass
class Recorded:
    """Clips a recorder reported, in the order their files were closed."""

    clips: list[tuple[ClipDraft, ClosedClip]] = field(default_factory=list)
    failures: list[WriteFailed] = field(default_factory=list)

    async def __call__(
        self, draft: ClipDraft, closed: ClosedClip | None, failed: WriteFailed | None
    ) -> None:
        if failed is not None:
            self.failures.append(failed)
        if closed is not None:
            self.clips.append((draft, closed))


@dataclass
class Rig:
    hub: StreamHub
    stream: CameraStream
    recorder: CameraRecorder
    recorded: Recorded
    root: Path


MakeRig = Callable[[RecordingPolicy], Rig]


@pytest.fixture
async def rig_factory(doorbell: SimulatedDevice, tmp_path: Path) -> AsyncIterator[MakeRig]:
    rigs: list[Rig] = []

    def make(policy: RecordingPolicy) -> Rig:
        hub = StreamHub()
        stream = hub.stream("doorbell-1/main", lambda: target(doorbell))
        recorded = Recorded()
        recorder = CameraRecorder("doorbell-1", stream.consume, policy, tmp_path, recorded)
        recorder.start()
        rig = Rig(hub, stream, recorder, recorded, tmp_path)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.recorder.stop()
        await rig.hub.close()


def _end_wall(draft: ClipDraft, closed: ClosedClip) -> float:
    return draft.started_wall + closed.duration_ms / 1000


async def test_a_press_records_its_pre_roll_and_post_roll_from_the_one_session(
    rig_factory: MakeRig, doorbell: SimulatedDevice
) -> None:
    policy = RecordingPolicy(mode="events", preroll_s=5.0, postroll_s=3.0)
    rig = rig_factory(policy)
    viewers = [rig.stream.consume(), rig.stream.consume()]  # two live viewers beside it
    await asyncio.sleep(6.0)  # the pre-roll fills
    assert not rig.recorder.recording
    assert rig.recorded.clips == []
    pressed = time.time()
    rig.recorder.trigger("doorbell", None)
    assert await wait_until(lambda: rig.recorder.recording, 2)
    assert rig.stream.sessions_opened == 1
    assert doorbell._rtsp.active_sessions == 1
    assert await wait_until(lambda: bool(rig.recorded.clips), 10)
    for viewer in viewers:
        viewer.close()
    [(draft, closed)] = rig.recorded.clips
    assert draft.kinds == {"doorbell"}
    assert draft.started_wall <= pressed - 4.5, pressed - draft.started_wall
    assert _end_wall(draft, closed) >= pressed + 3.0
    assert closed.path.exists()
    assert not closed.path.with_name(closed.path.name + ".part").exists()
    assert closed.path.relative_to(rig.root).parts[0] == "doorbell-1"
    decoded = await asyncio.to_thread(decode_clip, closed.path)
    assert decoded.errors == 0
    assert decoded.frames == closed.frames
    expected = closed.duration_ms / 1000 * FPS
    assert abs(decoded.frames - expected) <= max(1, 0.02 * expected), (decoded, expected)
    assert (decoded.width, decoded.height) == (640, 360)
    assert abs(decoded.duration_s - closed.duration_ms / 1000) < 0.2
    assert decoded.audio_codec == "aac"
    assert decoded.audio_samples > 8000 * 5


async def test_continuous_segments_follow_each_other_without_a_gap(
    rig_factory: MakeRig,
) -> None:
    policy = RecordingPolicy(mode="continuous", segment_s=2.0)
    rig = rig_factory(policy)
    assert await wait_until(lambda: len(rig.recorded.clips) >= 3, 20)
    clips = rig.recorded.clips[:3]
    for (a, first), (b, _) in itertools.pairwise(clips):
        gap = b.started_wall - _end_wall(a, first)
        assert abs(gap) <= 1.5 / FPS, gap  # at most a frame interval (plus arrival jitter)
    for _, closed in clips:
        decoded = await asyncio.to_thread(decode_clip, closed.path)
        assert decoded.errors == 0
        assert decoded.frames == closed.frames
        assert 1.9 <= closed.duration_ms / 1000 <= 3.1  # cut at the keyframe after 2 s


async def test_a_stalled_stream_ends_the_clip_at_what_arrived(
    rig_factory: MakeRig, doorbell: SimulatedDevice
) -> None:
    policy = RecordingPolicy(mode="events", preroll_s=1.0, postroll_s=60.0)
    rig = rig_factory(policy)
    await asyncio.sleep(2.0)
    rig.recorder.trigger("motion", True)
    assert await wait_until(lambda: rig.recorder.recording, 3)
    await asyncio.sleep(2.0)
    doorbell.rtsp_settings.hostile = "silent"  # reconnects get no answer
    for connection in list(doorbell._rtsp._connections):
        connection.writer.transport.abort()
    assert await wait_until(lambda: bool(rig.recorded.clips), 10)
    assert not rig.recorder.recording
    [(_, closed)] = rig.recorded.clips
    decoded = await asyncio.to_thread(decode_clip, closed.path)
    assert decoded.errors == 0
    assert decoded.frames == closed.frames >= 2 * FPS
    doorbell.rtsp_settings.hostile = None  # the camera is back; motion is still active
    assert await wait_until(lambda: rig.recorder.recording, 30)
