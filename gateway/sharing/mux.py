"""Writing a share's copy as fragmented MP4 with Doorstep's own muxer (no names, no times, no
camera text), a fragment per GOP with the audio of its time span. Blocking."""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Sequence
from pathlib import Path

from doorstep.gateway.recording.clip_file import FILE_MODE, write_index
from doorstep.protocols.fmp4 import (
    AUDIO_TRACK,
    MOVIE_TIMESCALE,
    VIDEO_TIMESCALE,
    VIDEO_TRACK,
    AudioTrack,
    Run,
    Sample,
    VideoTrack,
    fragment,
    init_segment,
)
from doorstep.protocols.h264 import split_annexb

DROPPED_NAL_TYPES = frozenset({6, 7, 8, 9})
"""SEI (encoder settings, a camera's own data), parameter sets (in the init segment), AUD."""
AAC_FRAME = 1024


def _avcc_units(data: bytes) -> list[bytes]:
    units, pos = [], 0
    while pos + 4 <= len(data):
        (size,) = struct.unpack_from(">I", data, pos)
        pos += 4
        units.append(data[pos : pos + size])
        pos += size
    return units


def video_sample(data: bytes, *, annexb: bool) -> bytes:
    """A sample of the copy (4-byte length-prefixed NAL units) without SEI, AUD or parameter
    sets, from an Annex B access unit (the encoder's) or an AVCC one (the master's)."""
    units = split_annexb(data) if annexb else _avcc_units(data)
    return b"".join(
        struct.pack(">I", len(nal)) + nal
        for nal in units
        if nal and nal[0] & 0x1F not in DROPPED_NAL_TYPES
    )


def parameter_sets_of_avcc(config: bytes) -> tuple[bytes, bytes] | None:
    """The first SPS and PPS of an `avcC` record (AVCDecoderConfigurationRecord)."""
    try:
        pos = 5
        sps_count = config[pos] & 0x1F
        pos += 1
        sps = b""
        for _ in range(sps_count):
            (size,) = struct.unpack_from(">H", config, pos)
            sps = sps or config[pos + 2 : pos + 2 + size]
            pos += 2 + size
        pps_count = config[pos]
        (size,) = struct.unpack_from(">H", config, pos + 1)
        pps = config[pos + 3 : pos + 3 + size]
    except (IndexError, struct.error):
        return None
    return (sps, pps) if sps and pps and pps_count else None


def parameter_sets_of_annexb(data: bytes) -> tuple[bytes, bytes] | None:
    """The SPS and PPS carried in an Annex B keyframe."""
    found = {nal[0] & 0x1F: nal for nal in split_annexb(data) if nal}
    return (found[7], found[8]) if 7 in found and 8 in found else None


class CopyWriter:
    """The copy's file: `add` each video sample in order (decode times from 0, in 90 kHz),
    then `close`. Written as NAME.tmp and renamed, so a half-made copy is never served."""

    def __init__(self, path: Path, video: VideoTrack, audio: AudioTrack | None = None,
                 audio_frames: Sequence[bytes] = ()) -> None:  # fmt: skip
        self.video = video
        self.path = path
        self._temporary = path.with_name(path.name + ".tmp")
        self._init = init_segment(video, audio)
        self._audio_rate = audio.sample_rate if audio is not None else 0
        self._audio_frames = list(audio_frames) if audio is not None else []
        self._audio_next = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self._temporary, flags, FILE_MODE)
        os.write(self._fd, self._init.data)
        self._size = len(self._init.data)
        self._gop: list[tuple[bytes, int, bool]] = []
        self._sequence = 1
        self._points: list[tuple[int, int]] = []
        self._last_duration = VIDEO_TIMESCALE // 30
        self._end = 0

    def add(self, sample: bytes, time: int, keyframe: bool) -> None:
        """One video sample at its decode time (a keyframe starts a new fragment)."""
        if keyframe and self._gop:
            self._flush(time)
        if sample:
            self._gop.append((sample, time, keyframe))

    def _audio_run(self, until: int | None) -> Run | None:
        first = self._audio_next
        last = len(self._audio_frames)
        if until is not None and self._audio_rate:
            last = min(last, until * self._audio_rate // (VIDEO_TIMESCALE * AAC_FRAME) + 1)
        if last <= first:
            return None
        self._audio_next = last
        frames = self._audio_frames[first:last]
        return Run(AUDIO_TRACK, first * AAC_FRAME, [Sample(f, AAC_FRAME) for f in frames])

    def _flush(self, next_time: int | None) -> None:
        times = [t for _, t, _ in self._gop]
        ends = [*times[1:], next_time if next_time is not None else times[-1] + self._last_duration]
        durations = [max(1, end - start) for start, end in zip(times, ends, strict=True)]
        self._last_duration = durations[-2] if len(durations) > 1 else durations[-1]
        samples = [Sample(data, d, key) for (data, _, key), d in zip(self._gop, durations,
                                                                      strict=True)]  # fmt: skip
        runs = [Run(VIDEO_TRACK, times[0], samples)]
        audio = self._audio_run(next_time)
        if audio is not None:
            runs.append(audio)
        data = fragment(self._sequence, runs)
        if samples[0].sync:
            self._points.append((times[0], self._size))
        os.write(self._fd, data)
        self._size += len(data)
        self._sequence += 1
        self._end = ends[-1]
        self._gop = []

    def close(self) -> int:
        """Write the last fragment and the index, fsync, rename; returns the duration in ms."""
        try:
            if self._gop:
                self._flush(None)
            duration_ms = self._end * MOVIE_TIMESCALE // VIDEO_TIMESCALE
            self._size = write_index(self._fd, self._size, self._init, self._points, duration_ms)
        finally:
            os.close(self._fd)
        os.replace(self._temporary, self.path)
        return duration_ms

    def abandon(self) -> None:
        """Stop after a failure and remove the half-made file."""
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._temporary.unlink(missing_ok=True)
