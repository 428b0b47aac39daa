"""Reading recorded clips back in tests: FFmpeg (PyAV) decodes them, as a player would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av

from doorstep.gateway.recording.clip_file import ClipFile
from doorstep.gateway.recording.frames import Frame
from doorstep.gateway.recording.recorder import clip_path, video_track
from doorstep.gateway.recording.timeline import ClipTimeline
from doorstep.protocols.h264 import AccessUnit
from doorstep.simulator.media import VideoLoop

FPS = 15
T0 = datetime(2026, 11, 30, 20, 15, 1, 250_000, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Decoded:
    """What FFmpeg makes of a clip file."""

    frames: int
    first_s: float
    last_s: float
    width: int
    height: int
    duration_s: float
    audio_codec: str | None
    audio_samples: int
    errors: int


def decode_clip(path: Path) -> Decoded:
    """Decode every video frame and audio sample of a clip. Blocking."""
    frames, times, errors, samples = 0, [], 0, 0
    width = height = 0
    with av.open(str(path)) as container:
        duration = (container.duration or 0) / 1_000_000
        audio = container.streams.audio[0] if container.streams.audio else None
        streams = [container.streams.video[0], *([audio] if audio else [])]
        for packet in container.demux(*streams):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                errors += 1
                continue
            for item in decoded:
                if isinstance(item, av.VideoFrame):
                    frames += 1
                    width, height = item.width, item.height
                    if item.time is not None:
                        times.append(item.time)
                elif isinstance(item, av.AudioFrame):
                    samples += item.samples
        codec = audio.codec_context.name if audio else None
    return Decoded(frames, min(times, default=0.0), max(times, default=0.0), width, height,
                   duration, codec, samples, errors)  # fmt: skip


def write_clip(
    root: Path,
    loop: VideoLoop,
    clip_id: str,
    *,
    close: bool,
    cut: int = 0,
    camera: str = "door",
    started: datetime = T0,
) -> Path:
    """A clip of the loop (one fragment per second) as the recorder writes it; `close=False`
    leaves a `.part`, `cut` bytes then chopped off its end (a crash mid-fragment)."""
    relative = clip_path(camera, "events", started, clip_id)
    file = ClipFile(root, relative)
    frames = [
        Frame(AccessUnit(b"".join(b"\x00\x00\x00\x01" + n for n in f.nals), i * 6000, f.keyframe),
              i / FPS, started.timestamp() + i / FPS)
        for i, f in enumerate(loop.frames)
    ]  # fmt: skip
    found = video_track(frames[0].unit.data)
    assert found is not None
    file.open(found[0], None, frames[0].at)
    timeline = ClipTimeline()
    for frame in frames:
        if (job := timeline.add(frame)) is not None:
            file.write(job)
    last = timeline.finish()
    assert last is not None
    file.write(last)
    if close:
        return file.close().path
    file.abandon()
    if cut:
        with file.part.open("r+b") as f:
            f.truncate(f.seek(0, 2) - cut)
    return file.part
