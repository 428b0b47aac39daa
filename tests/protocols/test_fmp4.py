"""The fragmented MP4 writer and reader: FFmpeg (PyAV) decodes what it writes, a cut file
plays to its last complete fragment, and the reader survives any bytes."""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from doorstep.protocols.fmp4 import (
    AUDIO_TRACK,
    VIDEO_TIMESCALE,
    VIDEO_TRACK,
    AudioTrack,
    Run,
    Sample,
    VideoTrack,
    annexb_to_avcc,
    fragment,
    init_segment,
    random_access_index,
)
from doorstep.protocols.fmp4_scan import scan
from doorstep.protocols.h264_sps import SpsError, parse_sps, unescape
from doorstep.simulator.media import VideoLoop, encode_video_loop

FPS = 15


@pytest.fixture(scope="module")
def loop() -> VideoLoop:
    return encode_video_loop(320, 180, FPS, seconds=3)


def _access_unit(nals: tuple[bytes, ...]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


def _aac_frames(seconds: int, rate: int = 8000) -> tuple[bytes, list[bytes]]:
    """AudioSpecificConfig and raw AAC frames of a 440 Hz tone."""
    codec = av.CodecContext.create("aac", "w")
    codec.sample_rate, codec.layout, codec.format = rate, "mono", "fltp"
    codec.time_base = Fraction(1, rate)
    t = np.arange(seconds * rate) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    packets = []
    for start in range(0, len(tone), 1024):
        frame = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp",
                                           layout="mono")  # fmt: skip
        frame.sample_rate, frame.pts = rate, start
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return bytes(codec.extradata or b""), packets


def _write_clip(loop: VideoLoop, path: Path, audio: bool = False) -> list[int]:
    """A clip of the loop, one fragment per GOP; returns each fragment's start offset."""
    track = VideoTrack(loop.sps, loop.pps, loop.width, loop.height)
    config, aac = _aac_frames(3) if audio else (b"", [])
    init = init_segment(track, AudioTrack(8000, 1, config) if audio else None)
    out = bytearray(init.data)
    gops: list[list[Sample]] = []
    for frame in loop.frames:
        sample = Sample(annexb_to_avcc(_access_unit(frame.nals)), VIDEO_TIMESCALE // FPS,
                        frame.keyframe)  # fmt: skip
        if frame.keyframe or not gops:
            gops.append([])
        gops[-1].append(sample)
    offsets, points, video_time = [], [], 0
    per_gop = len(aac) // len(gops)
    for index, gop in enumerate(gops):
        runs = [Run(VIDEO_TRACK, video_time, gop)]
        if audio:
            chunk = aac[index * per_gop : (index + 1) * per_gop]
            runs.append(Run(AUDIO_TRACK, index * per_gop * 1024, [Sample(a, 1024) for a in chunk]))
        offsets.append(len(out))
        points.append((video_time, len(out)))
        out += fragment(index + 1, runs)
        video_time += sum(s.duration for s in gop)
    out += random_access_index(points)
    duration_ms = video_time * 1000 // VIDEO_TIMESCALE
    out[init.duration_offset : init.duration_offset + 8] = struct.pack(">Q", duration_ms)
    path.write_bytes(out)
    return offsets


def test_ffmpeg_decodes_every_frame_with_the_right_size_and_duration(
    loop: VideoLoop, tmp_path: Path
) -> None:
    path = tmp_path / "clip.mp4"
    _write_clip(loop, path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - 3.0) < 0.1
        frames = list(container.decode(stream))
    assert len(frames) == len(loop.frames) == 3 * FPS
    times = [f.time for f in frames]
    assert times == sorted(times)
    assert abs(times[1] - times[0] - 1 / FPS) < 1e-3


def test_an_aac_track_is_decoded_beside_the_video(loop: VideoLoop, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    _write_clip(loop, path, audio=True)
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.sample_rate == 8000
        samples = sum(f.samples for f in container.decode(audio))
    assert samples >= 2 * 8000


def test_a_file_cut_anywhere_plays_to_its_last_complete_fragment(
    loop: VideoLoop, tmp_path: Path
) -> None:
    whole = tmp_path / "whole.mp4"
    offsets = _write_clip(loop, whole)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: offsets[2] + 1000])  # inside the third fragment
    with cut.open("rb") as f:
        found = scan(f)
    assert len(found.fragments) == 2
    assert found.complete_end == offsets[2]
    assert found.video_frames() == 2 * FPS
    assert not found.indexed
    assert found.video_duration() == 2 * VIDEO_TIMESCALE
    with cut.open("r+b") as f:
        f.truncate(found.complete_end)  # what finishing a crashed clip does first
    with av.open(str(cut)) as container:
        assert len(list(container.decode(video=0))) == 2 * FPS
    with whole.open("rb") as f:
        done = scan(f)
    assert done.indexed
    assert done.video_frames() == 3 * FPS
    assert done.fragments[0].runs[0].first_sync


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x08ftyp",
        b"\xff\xff\xff\xffmoov" + bytes(64),
        b"\x00\x00\x00\x01mdat" + b"\xff" * 8,
        b"\x00\x00\x00\x10moov" + bytes(8) + b"\x00\x00\x00\x20moof" + b"\x00\x00\x00\x30traf",
    ],
)
def test_the_reader_stops_at_bytes_it_cannot_trust(data: bytes) -> None:
    found = scan(io.BytesIO(data))
    assert found.fragments == []
    assert found.complete_end <= len(data)


def test_sps_sizes_are_read_with_cropping(loop: VideoLoop) -> None:
    info = parse_sps(loop.sps)
    assert (info.width, info.height) == (320, 180)  # 180 is 12 macroblocks minus a crop
    assert info.profile_idc == loop.sps[1]
    for bad in (b"", b"\x67", loop.pps, b"\x67\x42\x00\x1f" + b"\x00" * 8):
        with pytest.raises(SpsError):
            parse_sps(bad)


def test_emulation_prevention_bytes_are_removed() -> None:
    assert unescape(b"\x67\x00\x00\x03\x01\x00\x00\x03\x00") == b"\x67\x00\x00\x01\x00\x00\x00"
