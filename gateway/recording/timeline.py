"""One clip's frames cut into fragments, with decode times that never run backwards.

The camera's RTP timestamps give each frame its duration when they make sense. When they jump
(a camera that rebooted, wrapped, or sent two frames with one timestamp), the arrival times
stand in, clamped: a clip never has time running backwards or an hours-long gap inside it.
Pure bookkeeping, on the event loop: the bytes are built on the clip's writer thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from doorstep.gateway.recording.frames import Frame, TimedAudio
from doorstep.protocols.fmp4 import VIDEO_TIMESCALE

FRAGMENT_MAX_S = 2.0
MAX_FRAME_TICKS = 2 * VIDEO_TIMESCALE  # no single frame lasts longer than 2 s
DEFAULT_FRAME_TICKS = VIDEO_TIMESCALE // 15  # a last frame's duration before any is known


@dataclass(slots=True)
class FragmentJob:
    """What one fragment holds: video frames with their durations (90 kHz ticks), the decode
    time of the first, and the audio that arrived with them."""

    sequence: int
    base_time: int
    frames: list[tuple[Frame, int]] = field(default_factory=list)
    audio: list[TimedAudio] = field(default_factory=list)

    @property
    def ticks(self) -> int:
        """The fragment's video duration."""
        return sum(d for _, d in self.frames)


def frame_ticks(previous: Frame, current: Frame) -> int:
    """The duration of `previous`: from the RTP timestamps, or the arrival times if they jump."""
    delta = (current.unit.timestamp - previous.unit.timestamp) & 0xFFFFFFFF
    if 0 < delta <= MAX_FRAME_TICKS:
        return delta
    arrived = round((current.at - previous.at) * VIDEO_TIMESCALE)
    return min(max(arrived, 1), MAX_FRAME_TICKS)


class ClipTimeline:
    """Frames in, fragments out: a fragment starts at each keyframe, or after 2 s without one."""

    def __init__(self, fragment_max_s: float = FRAGMENT_MAX_S) -> None:
        self._max_ticks = round(fragment_max_s * VIDEO_TIMESCALE)
        self._last: Frame | None = None
        self._last_ticks = DEFAULT_FRAME_TICKS
        self._job = FragmentJob(1, 0)
        self._audio: list[TimedAudio] = []
        self.time = 0
        """Decode time (90 kHz) of the frame whose duration is not known yet."""
        self.frames = 0
        self.first: Frame | None = None

    @property
    def last(self) -> Frame | None:
        """The newest frame."""
        return self._last

    def add(self, frame: Frame) -> FragmentJob | None:
        """Add the next frame; returns the fragment it completed, if it starts a new one."""
        previous = self._last
        if previous is None:
            self.first = frame
        elif frame.unit.timestamp == previous.unit.timestamp and not frame.keyframe:
            # Two access units with one timestamp are one picture sent in two parts (slices):
            # MP4 cannot hold two samples at one decode time, so they become one.
            merged = Frame(
                type(previous.unit)(previous.unit.data + frame.unit.data,
                                    previous.unit.timestamp, previous.unit.keyframe),
                previous.at, previous.wall,
            )  # fmt: skip
            self._last = merged
            return None
        done: FragmentJob | None = None
        if previous is not None:
            ticks = frame_ticks(previous, frame)
            self._last_ticks = ticks
            self._job.frames.append((previous, ticks))
            self.time += ticks
            if frame.keyframe or self.time - self._job.base_time >= self._max_ticks:
                done = self._cut(frame.at)
        self._last = frame
        self.frames += 1
        return done

    def add_audio(self, audio: TimedAudio) -> None:
        """Audio that arrived with the frames (after the clip's first frame)."""
        if self.first is not None and audio.at >= self.first.at:
            self._audio.append(audio)

    def finish(self, before: Frame | None = None) -> FragmentJob | None:
        """The last fragment. The newest frame lasts until `before` (the first frame of the
        clip that follows this one without a gap), or as long as the frame before it."""
        if self._last is not None:
            ticks = self._last_ticks if before is None else frame_ticks(self._last, before)
            self._job.frames.append((self._last, ticks))
            self.time += ticks
            self._last = None
        if not self._job.frames:
            return None
        job, self._job = self._job, FragmentJob(self._job.sequence + 1, self.time)
        job.audio, self._audio = self._audio, []
        return job

    def _cut(self, until: float) -> FragmentJob:
        job, self._job = self._job, FragmentJob(self._job.sequence + 1, self.time)
        job.audio = [a for a in self._audio if a.at < until]
        self._audio = [a for a in self._audio if a.at >= until]
        return job
