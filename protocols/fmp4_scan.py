"""Reading back a fragmented MP4 clip: where its complete fragments end, and what they hold.

Used to finish a clip file a crash left behind (cut it after its last complete `moof` +
`mdat`, then index it) and by tests. It reads box headers and `moof` boxes only, never the
media, and trusts no size it reads: a box that claims to run past the end of the file ends
the scan there.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from doorstep.protocols.fmp4 import VIDEO_TRACK

MAX_MOOF_BYTES = 4 * 1024 * 1024  # a moof of a 2 s fragment is a few KiB
_SYNC_MASK = 0x00010000  # sample_is_non_sync_sample


class Fmp4Error(ValueError):
    """The file is not a fragmented MP4 Doorstep can read."""


@dataclass(frozen=True, slots=True)
class TrackRun:
    """One track's samples in one fragment."""

    track_id: int
    base_time: int
    durations: tuple[int, ...]
    first_sync: bool


@dataclass(frozen=True, slots=True)
class Fragment:
    """One complete `moof` + `mdat` pair: where it starts and what it holds."""

    offset: int
    end: int
    runs: tuple[TrackRun, ...]

    def track(self, track_id: int) -> TrackRun | None:
        """This fragment's run of `track_id`, if it has one."""
        return next((r for r in self.runs if r.track_id == track_id), None)


@dataclass(slots=True)
class Scan:
    """What a clip file holds up to its last complete fragment."""

    init_end: int = 0
    """Where the init segment (`ftyp` + `moov`) ends; 0 if it is incomplete."""
    fragments: list[Fragment] = field(default_factory=list)
    complete_end: int = 0
    """Bytes up to the end of the last complete fragment (or of the init segment)."""
    indexed: bool = False
    """The file already ends with an `mfra` (it was closed properly)."""
    duration_offset: int | None = None
    """Where the 64-bit movie duration (`mehd`) sits, to patch it."""
    sps: bytes | None = None
    """The video's sequence parameter set, from its `avcC`."""
    has_audio: bool = False

    def video_frames(self) -> int:
        """How many video samples the complete fragments hold."""
        return sum(len(r.durations) for f in self.fragments if (r := f.track(VIDEO_TRACK)))

    def video_duration(self) -> int:
        """The video's duration in its timescale, from its first decode time to its end."""
        runs = [r for f in self.fragments if (r := f.track(VIDEO_TRACK))]
        if not runs:
            return 0
        return runs[-1].base_time + sum(runs[-1].durations) - runs[0].base_time


def _header(f: BinaryIO, offset: int, size: int) -> tuple[int, bytes, int] | None:
    """(box size, type, header length) of the box at `offset`, or None if it is cut."""
    f.seek(offset)
    head = f.read(8)
    if len(head) < 8:
        return None
    length, kind = struct.unpack(">I4s", head)
    header = 8
    if length == 1:
        large = f.read(8)
        if len(large) < 8:
            return None
        (length,) = struct.unpack(">Q", large)
        header = 16
    elif length == 0:
        length = size - offset  # runs to the end of the file
    if length < header or offset + length > size:
        return None
    return length, kind, header


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, end) of each box in `data[start:end]`."""
    found = []
    while start + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, start)
        if length < 8 or start + length > end:
            raise Fmp4Error(f"a {kind!r} box runs past its parent")
        found.append((kind, start + 8, start + length))
        start += length
    return found


def _tfhd(data: bytes, pos: int, flags: int) -> tuple[int, int, int]:
    """(track id, default sample duration, default sample flags) of a `tfhd`."""
    (track_id,) = struct.unpack_from(">I", data, pos)
    pos += 4 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
    duration = sample_flags = 0
    if flags & 0x8:
        (duration,) = struct.unpack_from(">I", data, pos)
        pos += 4
    pos += 4 if flags & 0x10 else 0
    if flags & 0x20:
        (sample_flags,) = struct.unpack_from(">I", data, pos)
    return track_id, duration, sample_flags


def _trun(data: bytes, pos: int, end: int, flags: int, defaults: tuple[int, int]
          ) -> tuple[list[int], bool]:  # fmt: skip
    """(sample durations, whether the first is a sync sample) of a `trun`."""
    (count,) = struct.unpack_from(">I", data, pos)
    pos += 4 + (4 if flags & 0x1 else 0)
    first_flags = None
    if flags & 0x4:
        (first_flags,) = struct.unpack_from(">I", data, pos)
        pos += 4
    width = 4 * bin(flags & 0xF00).count("1")
    if count * width > end - pos:
        raise Fmp4Error("a trun with more samples than bytes")
    durations, first_sync = [], True
    for index in range(count):
        duration, sample_flags = defaults
        field_pos = pos
        if flags & 0x100:
            (duration,) = struct.unpack_from(">I", data, field_pos)
            field_pos += 4
        field_pos += 4 if flags & 0x200 else 0
        if flags & 0x400:
            (sample_flags,) = struct.unpack_from(">I", data, field_pos)
        if index == 0:
            chosen = first_flags if first_flags is not None else sample_flags
            first_sync = not chosen & _SYNC_MASK
        durations.append(duration)
        pos += width
    return durations, first_sync


def _traf(data: bytes, start: int, end: int) -> TrackRun:
    track_id, base, first_sync = 0, 0, True
    durations: list[int] = []
    defaults = (0, 0)
    for kind, s, e in _children(data, start, end):
        if e - s < 8:
            raise Fmp4Error(f"a {kind!r} box too short")
        (version_flags,) = struct.unpack_from(">I", data, s)
        version, flags, pos = version_flags >> 24, version_flags & 0xFFFFFF, s + 4
        if kind == b"tfhd":
            track_id, *rest = _tfhd(data, pos, flags)
            defaults = (rest[0], rest[1])
        elif kind == b"tfdt":
            (base,) = struct.unpack_from(">Q" if version == 1 else ">I", data, pos)
        elif kind == b"trun":
            found, sync = _trun(data, pos, e, flags, defaults)
            if not durations:
                first_sync = sync
            durations += found
    return TrackRun(track_id, base, tuple(durations), first_sync)


def _moof(data: bytes) -> tuple[TrackRun, ...]:
    runs = [_traf(data, s, e) for kind, s, e in _children(data, 0, len(data)) if kind == b"traf"]
    return tuple(runs)


MAX_MOOV_BYTES = 1024 * 1024


def _moov(data: bytes, base: int, result: Scan) -> None:
    """Read what a clip's `moov` says: where its duration goes, its SPS, whether it has audio."""
    for kind, s, e in _children(data, 0, len(data)):
        if kind == b"mvex":
            for child, cs, ce in _children(data, s, e):
                if child == b"mehd" and data[cs] == 1 and ce - cs >= 12:
                    result.duration_offset = base + cs + 4
        elif kind == b"trak":
            result.has_audio = result.has_audio or b"mp4a" in data[s:e]
            at = data.find(b"avcC", s, e)
            if at != -1 and at + 12 <= e:
                (length,) = struct.unpack_from(">H", data, at + 10)
                if at + 12 + length <= e:
                    result.sps = data[at + 12 : at + 12 + length]


def scan(f: BinaryIO) -> Scan:
    """Walk a clip file's top-level boxes and read each `moof` (not the media)."""
    f.seek(0, 2)
    size = f.tell()
    result = Scan()
    offset, seen_moov = 0, False
    pending: tuple[int, tuple[TrackRun, ...]] | None = None  # a moof waiting for its mdat
    while True:
        found = _header(f, offset, size)
        if found is None:
            break
        length, kind, header = found
        if kind == b"moov":
            seen_moov = True
            result.init_end = result.complete_end = offset + length
            if length <= MAX_MOOV_BYTES:
                f.seek(offset + header)
                try:
                    _moov(f.read(length - header), offset + header, result)
                except (Fmp4Error, struct.error):
                    break
        elif kind == b"moof" and seen_moov:
            if length > MAX_MOOF_BYTES:
                break
            f.seek(offset + header)
            try:
                pending = (offset, _moof(f.read(length - header)))
            except (Fmp4Error, struct.error):
                break
        elif kind == b"mdat" and pending is not None:
            result.fragments.append(Fragment(pending[0], offset + length, pending[1]))
            result.complete_end = offset + length
            pending = None
        elif kind == b"mfra":
            result.indexed = offset + length == size
            break
        offset += length
    return result
