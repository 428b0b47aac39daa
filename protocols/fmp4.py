"""Fragmented MP4 (ISO/IEC 14496-12) for recorded clips: H.264 video, optionally AAC audio.

A clip file is an init segment (`ftyp` + `moov` with empty sample tables and `mvex`), then one
`moof` + `mdat` pair per fragment, and, once the clip is closed, an `mfra` index. A file cut at
any byte still plays up to its last complete fragment, which is what makes recording
crash-safe. Only boxes Doorstep needs are written; every box is built from its fields here, so
no camera-supplied text (names, times) ever reaches the file.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from doorstep.protocols.h264 import split_annexb

MOVIE_TIMESCALE = 1000  # mvhd/mehd durations in milliseconds
VIDEO_TIMESCALE = 90_000  # the RTP clock of H.264
VIDEO_TRACK = 1
AUDIO_TRACK = 2
SYNC_SAMPLE = 0x02000000  # sample_depends_on = 2 (an I picture)
NON_SYNC_SAMPLE = 0x01010000  # depends on others, sample_is_non_sync_sample
_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_LANGUAGE_UND = 0x55C4  # ISO-639-2 "und", packed in 3 5-bit letters


def box(kind: bytes, *payload: bytes) -> bytes:
    """One box: its 32-bit size, its four-character type and its payload."""
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """A box with the version byte and 24 flag bits of a FullBox."""
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


@dataclass(frozen=True, slots=True)
class VideoTrack:
    """The H.264 track: its parameter sets and picture size."""

    sps: bytes
    pps: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """The AAC track: its sample rate, channels and AudioSpecificConfig."""

    sample_rate: int
    channels: int
    config: bytes


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a fragment: its bytes (AVCC for video), duration in its track's timescale
    and whether a decoder can start at it."""

    data: bytes
    duration: int
    sync: bool = True


@dataclass(frozen=True, slots=True)
class Run:
    """The samples of one track in one fragment, and the decode time of the first."""

    track_id: int
    base_time: int
    samples: Sequence[Sample]


@dataclass(frozen=True, slots=True)
class InitSegment:
    """The bytes of `ftyp` + `moov`, and where the 64-bit movie duration sits in them."""

    data: bytes
    duration_offset: int


def _avcc(video: VideoTrack) -> bytes:
    sps, pps = video.sps, video.pps
    return box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),  # 4-byte NAL lengths, one SPS
        struct.pack(">H", len(sps)),
        sps,
        bytes([1]),
        struct.pack(">H", len(pps)),
        pps,
    )


def _avc1(video: VideoTrack) -> bytes:
    return box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", video.width, video.height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressorname: empty
        struct.pack(">Hh", 0x18, -1),
        _avcc(video),
    )


def _descriptor(tag: int, payload: bytes) -> bytes:
    if len(payload) > 0x7F:
        raise ValueError("descriptor too long for a one-byte size")
    return bytes([tag, len(payload)]) + payload


def _mp4a(audio: AudioTrack) -> bytes:
    decoder_config = _descriptor(
        0x04,
        bytes([0x40, 0x15])  # MPEG-4 audio; an audio stream
        + bytes(3)  # bufferSizeDB
        + struct.pack(">II", 0, 0)  # max and average bit rate: not declared
        + _descriptor(0x05, audio.config),
    )
    es = _descriptor(0x03, struct.pack(">HB", 0, 0) + decoder_config + _descriptor(0x06, b"\x02"))
    return box(
        b"mp4a",
        bytes(6),
        struct.pack(">H", 1),
        bytes(8),
        struct.pack(">HH", audio.channels, 16),
        bytes(4),
        struct.pack(">I", audio.sample_rate << 16),
        full_box(b"esds", 0, 0, es),
    )


def _stbl(entry: bytes) -> bytes:
    return box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )


def _trak(track_id: int, timescale: int, handler: bytes, header: bytes, entry: bytes,
          volume: int, width: int, height: int) -> bytes:  # fmt: skip
    tkhd = full_box(
        b"tkhd", 0, 0x3,  # enabled, in the movie
        struct.pack(">IIIII", 0, 0, track_id, 0, 0),
        bytes(8),
        struct.pack(">hhhH", 0, 0, volume, 0),
        _UNITY_MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, _LANGUAGE_UND, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, handler), bytes(12), b"\x00")
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", header, dinf, _stbl(entry))
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))


def init_segment(video: VideoTrack, audio: AudioTrack | None = None) -> InitSegment:
    """`ftyp` + `moov` for a clip; its duration is 0 until `InitSegment.duration_offset` is
    patched with the real one (milliseconds, 64-bit big-endian) when the clip is closed."""
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso6avc1mp41")
    tracks = [
        _trak(VIDEO_TRACK, VIDEO_TIMESCALE, b"vide", full_box(b"vmhd", 0, 1, bytes(8)),
              _avc1(video), 0, video.width, video.height)
    ]  # fmt: skip
    if audio is not None:
        tracks.append(
            _trak(AUDIO_TRACK, audio.sample_rate, b"soun", full_box(b"smhd", 0, 0, bytes(4)),
                  _mp4a(audio), 0x0100, 0, 0)
        )  # fmt: skip
    next_track = AUDIO_TRACK + 1 if audio is not None else VIDEO_TRACK + 1
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, MOVIE_TIMESCALE, 0),
        struct.pack(">IH", 0x00010000, 0x0100),
        bytes(10),
        _UNITY_MATRIX,
        bytes(24),
        struct.pack(">I", next_track),
    )  # fmt: skip
    trex = [
        full_box(b"trex", 0, 0, struct.pack(">IIIII", t, 1, 0, 0, 0))
        for t in range(VIDEO_TRACK, next_track)
    ]
    mehd = full_box(b"mehd", 1, 0, struct.pack(">Q", 0))
    mvex = box(b"mvex", mehd, *trex)
    moov = box(b"moov", mvhd, *tracks, mvex)
    data = ftyp + moov
    # mvex is moov's last box and mehd its first: skip mvex's header, mehd's header and flags.
    duration_offset = len(ftyp) + len(moov) - len(mvex) + 8 + 8 + 4
    return InitSegment(data, duration_offset)


def fragment(sequence: int, runs: Sequence[Run]) -> bytes:
    """One `moof` + `mdat`: each run's samples, in order, after one another in the `mdat`."""
    runs = [r for r in runs if r.samples]
    if not runs:
        raise ValueError("a fragment needs at least one sample")
    flags = 0x000001 | 0x000100 | 0x000200 | 0x000400  # data offset; duration, size, flags
    trafs: list[tuple[bytes, bytes, int]] = []  # (traf before trun, trun tail, trun size)
    for run in runs:
        tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", run.track_id))  # base is moof
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", run.base_time))
        entries = b"".join(
            struct.pack(">III", s.duration, len(s.data), SYNC_SAMPLE if s.sync else NON_SYNC_SAMPLE)
            for s in run.samples
        )
        trafs.append((tfhd + tfdt, entries, 12 + 4 + 4 + len(entries)))
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence))
    moof_size = 8 + len(mfhd) + sum(8 + len(head) + size for head, _, size in trafs)
    offset = moof_size + 8  # the first sample byte, counted from the moof's first byte
    parts = []
    for run, (head, entries, size) in zip(runs, trafs, strict=True):
        trun = struct.pack(">I4sIIi", size, b"trun", flags, len(run.samples), offset)
        parts.append(box(b"traf", head, trun, entries))
        offset += sum(len(s.data) for s in run.samples)
    moof = box(b"moof", mfhd, *parts)
    payload = b"".join(s.data for run in runs for s in run.samples)
    return moof + struct.pack(">I4s", 8 + len(payload), b"mdat") + payload


def random_access_index(points: Sequence[tuple[int, int]], track_id: int = VIDEO_TRACK) -> bytes:
    """An `mfra` listing (decode time, moof offset) of each fragment starting with a keyframe,
    so a player can seek without reading every fragment."""
    entries = b"".join(struct.pack(">QQBBB", t, offset, 1, 1, 1) for t, offset in points)
    tfra = full_box(b"tfra", 1, 0, struct.pack(">III", track_id, 0, len(points)), entries)
    mfro_size = 16
    return box(b"mfra", tfra, full_box(b"mfro", 0, 0, struct.pack(">I", 8 + len(tfra) + mfro_size)))


def annexb_to_avcc(data: bytes) -> bytes:
    """An Annex B access unit as 4-byte length-prefixed NAL units, dropping parameter sets and
    access unit delimiters (the init segment carries the parameter sets)."""
    out = []
    for nal in split_annexb(data):
        if nal and nal[0] & 0x1F not in (7, 8, 9):  # SPS, PPS, AUD
            out.append(struct.pack(">I", len(nal)) + nal)
    return b"".join(out)
