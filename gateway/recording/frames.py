"""What the recorder keeps of a camera's stream before it knows it needs it: the pre-roll.

A `Frame` is an access unit with the time it arrived. `Preroll` holds the last seconds of them
in whole GOPs (a clip must start at a keyframe) and the audio beside them, bounded in bytes
as well as in seconds: a camera sending huge frames loses its own pre-roll, nothing else.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from doorstep.gateway.recording.audio import AudioPayload
from doorstep.protocols.h264 import AccessUnit

FRAME_OVERHEAD = 128  # bytes charged per kept frame or audio payload, so empty ones are not free
MAX_AGE_S = 1.0
"""The most a read's media is dated back; a longer RTP step is a jump, not a wait."""


def sent_before_last(timestamps: Sequence[int], clock_rate: int) -> list[float]:
    """How long before the last of these (one read's media, in arrival order) each was sent,
    in seconds, by its RTP timestamp. Never more for a later one (B-frames, a jump in the
    camera's clock: it counts as sent with the one after it), so arrival times stay in order."""
    ages = [0.0] * len(timestamps)
    if not timestamps:
        return ages
    last, age = timestamps[-1], 0.0
    for index in range(len(timestamps) - 2, -1, -1):
        step = ((last - timestamps[index]) & 0xFFFFFFFF) / clock_rate
        age = min(max(age, step), MAX_AGE_S) if step <= MAX_AGE_S else age
        ages[index] = age
    return ages


@dataclass(frozen=True, slots=True)
class Frame:
    """One access unit and when it arrived: `at` on the monotonic clock, `wall` in UTC
    seconds since the epoch (the gateway's clock, authoritative for storage)."""

    unit: AccessUnit
    at: float
    wall: float

    @property
    def keyframe(self) -> bool:
        """A decoder can start here."""
        return self.unit.keyframe

    @property
    def cost(self) -> int:
        """Bytes this frame holds, with its overhead."""
        return len(self.unit.data) + FRAME_OVERHEAD


@dataclass(frozen=True, slots=True)
class TimedAudio:
    """One audio payload and when it arrived (monotonic)."""

    payload: AudioPayload
    at: float


class Preroll:
    """The last `seconds` of video, whole GOPs, plus the audio that arrived meanwhile."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._gops: deque[list[Frame]] = deque()
        self._audio: deque[TimedAudio] = deque()
        self._bytes = 0
        self.dropped_gops = 0
        """GOPs dropped for the byte budget (not for age)."""

    @property
    def bytes(self) -> int:
        """Bytes held, video and audio."""
        return self._bytes

    @property
    def oldest(self) -> float | None:
        """When the oldest kept frame arrived."""
        return self._gops[0][0].at if self._gops else None

    def add(self, frame: Frame) -> None:
        """Keep a frame; a frame before the first keyframe is useless and dropped."""
        if frame.keyframe:
            self._gops.append([frame])
        elif self._gops:
            self._gops[-1].append(frame)
        else:
            return
        self._bytes += frame.cost
        self._trim(frame.at)

    def add_audio(self, audio: TimedAudio) -> None:
        """Keep an audio payload beside the video (dropped if no video is kept yet)."""
        if not self._gops:
            return
        self._audio.append(audio)
        self._bytes += len(audio.payload.data) + FRAME_OVERHEAD
        self._trim(audio.at)

    def take(self, since: float) -> tuple[list[Frame], list[TimedAudio]]:
        """Frames from the latest keyframe that arrived at or before `since` (the oldest one
        kept if none did), and the audio from then on. The buffer is left as it is."""
        if not self._gops:
            return [], []
        start = 0
        for index, gop in enumerate(self._gops):
            if gop[0].at <= since:
                start = index
        frames = [f for gop in list(self._gops)[start:] for f in gop]
        first = frames[0].at
        return frames, [a for a in self._audio if a.at >= first]

    def clear(self) -> None:
        """Forget everything (the stream broke: what is kept no longer continues)."""
        self._gops.clear()
        self._audio.clear()
        self._bytes = 0

    def _drop_oldest(self) -> None:
        gop = self._gops.popleft()
        self._bytes -= sum(f.cost for f in gop)
        keep_from = self._gops[0][0].at if self._gops else float("inf")
        while self._audio and self._audio[0].at < keep_from:
            self._bytes -= len(self._audio.popleft().payload.data) + FRAME_OVERHEAD

    def _trim(self, now: float) -> None:
        # Keep one GOP older than the window, so a clip can start at or before it.
        while len(self._gops) > 1 and self._gops[1][0].at <= now - self.seconds:
            self._drop_oldest()
        while self._gops and self._bytes > self.max_bytes:
            self.dropped_gops += 1
            self._drop_oldest()
