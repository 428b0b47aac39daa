"""A share's copy, inspected as a recipient could: PyAV decodes it, every box and byte is
dumped. No audio unless kept, no name, time or encoder string, masks black or blurred on every
frame and the rest as it was, a poster with no metadata segment; the master is untouched."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from doorstep.gateway.recording.audio import AudioPayload
from doorstep.gateway.recording.clip_file import ClipFile, sha256_file
from doorstep.gateway.recording.frames import Frame, TimedAudio
from doorstep.gateway.recording.recorder import clip_path, video_track
from doorstep.gateway.recording.timeline import ClipTimeline
from doorstep.gateway.sharing.derive import DeriveError, DeriveJob, derive
from doorstep.gateway.sharing.masks import Mask
from doorstep.protocols.h264 import AccessUnit
from doorstep.simulator.media import VideoLoop, encode_video_loop

from ..recording.clips import FPS, T0

BLACK = Mask(0.5, 0.4, 0.3, 0.4, "black")
BLUR = Mask(0.0, 0.0, 0.25, 0.25, "blur")  # over the pattern's text
CONTAINER_BOXES = {b"ftyp", b"moov", b"mvhd", b"trak", b"tkhd", b"mdia", b"mdhd", b"hdlr",
                   b"minf", b"vmhd", b"smhd", b"dinf", b"dref", b"url ", b"stbl", b"stsd",
                   b"avc1", b"avcC", b"mp4a", b"esds", b"stts", b"stsc", b"stsz", b"stco",
                   b"mvex", b"mehd", b"trex", b"moof", b"mfhd", b"traf", b"tfhd", b"tfdt",
                   b"trun", b"mdat", b"mfra", b"tfra", b"mfro"}  # fmt: skip
"""Every box a copy may hold: none of them carries a name, a place or a time."""


@pytest.fixture(scope="module")
def loop() -> VideoLoop:
    return encode_video_loop(640, 360, FPS, seconds=4)


def master_with_audio(root: Path, loop: VideoLoop) -> Path:
    """A clip as the recorder writes it, with G.711 audio (a tone) made into AAC."""
    file = ClipFile(root, clip_path("front-porch", "events", T0, "M" * 22))
    frames = [
        Frame(AccessUnit(b"".join(b"\x00\x00\x00\x01" + n for n in f.nals), i * 6000, f.keyframe),
              i / FPS, 100.0 + i / FPS)
        for i, f in enumerate(loop.frames)
    ]  # fmt: skip
    found = video_track(frames[0].unit.data)
    assert found is not None
    file.open(found[0], ("PCMU", 8000), frames[0].at)
    timeline = ClipTimeline()
    tone = bytes((0x80 + (i % 16)) & 0xFF for i in range(160))
    packets = iter(range(10_000))
    for frame in frames:
        while (n := next(packets)) * 0.02 < frame.at - 100.0 + 1 / FPS:
            timeline.add_audio(TimedAudio(AudioPayload(tone, n * 160), 100.0 + n * 0.02))
        if (job := timeline.add(frame)) is not None:
            file.write(job)
        packets = iter(range(n, 10_000))
    last = timeline.finish()
    assert last is not None
    file.write(last)
    return file.close().path


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of every box, recursively into the containers Doorstep writes."""
    found, pos, end = [], start, len(data) if end is None else end
    parents = {b"moov": 8, b"trak": 8, b"mdia": 8, b"minf": 8, b"stbl": 8, b"mvex": 8,
               b"moof": 8, b"traf": 8, b"mfra": 8, b"dinf": 8, b"stsd": 16, b"dref": 16,
               b"avc1": 86, b"mp4a": 36}  # fmt: skip
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        assert size >= 8, kind
        found.append((kind, pos, pos + size))
        if kind in parents:
            found += boxes(data, pos + parents[kind], pos + size)
        pos += size
    return found


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(container.streams.video[0])]


def streams(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        return len(container.streams.video), len(container.streams.audio)


def jpeg_markers(data: bytes) -> list[int]:
    """The marker of every segment before the picture data."""
    markers, pos = [], 2
    assert data[:2] == b"\xff\xd8"
    while pos < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        pos += 2 + length
    return markers


def region(frame: np.ndarray, mask: Mask) -> np.ndarray:
    h, w = frame.shape
    x0, y0, x1, y1 = mask.pixels(w, h)
    return frame[y0:y1, x0:x1].astype(np.int32)


def detail(picture: np.ndarray) -> float:
    """Mean absolute horizontal gradient: how much fine detail a region holds."""
    return float(np.abs(np.diff(picture, axis=1)).mean())


def assert_anonymous(copy: Path, master: Path) -> None:
    """Only the boxes Doorstep writes, no name, time or encoder string, a bare poster."""
    data = copy.read_bytes()
    found = boxes(data)
    assert {kind for kind, _, _ in found} <= CONTAINER_BOXES
    for needle in (b"front", b"porch", b"M" * 22, master.name.encode(), b"x264", b"Lavc",
                   b"Lavf", b"Doorstep", b"2026"):  # fmt: skip
        assert needle not in data, needle
    for kind, start, _ in found:
        if kind in (b"mvhd", b"tkhd", b"mdhd"):
            assert data[start + 12 : start + 20] == bytes(8), kind  # creation, modification
    markers = jpeg_markers(copy.with_suffix(".jpg").read_bytes())
    assert 0xDA in markers  # the picture is there
    assert not {m for m in markers if 0xE0 <= m <= 0xEF or m == 0xFE}  # no APPn, no comment


@pytest.fixture
def master(tmp_path: Path, loop: VideoLoop) -> Path:
    return master_with_audio(tmp_path / "clips", loop)


def test_audio_is_dropped_unless_kept_and_no_copy_carries_a_name_time_or_encoder(
    master: Path, tmp_path: Path
) -> None:
    before = sha256_file(master)
    assert streams(master) == (1, 1)
    assert b"x264" in master.read_bytes()  # the camera's encoder left its SEI in the master
    job = DeriveJob(master, tmp_path / "a.mp4", tmp_path / "a.jpg", start_ms=1200, end_ms=3500)
    silent = derive(job)
    assert streams(job.video_out) == (1, 0)
    assert not silent.has_audio
    assert silent.derivation["operations"][-2] == "audio_removed"
    kept = derive(replace(job, video_out=tmp_path / "b.mp4", poster_out=tmp_path / "b.jpg",
                          audio=True))  # fmt: skip
    assert streams(tmp_path / "b.mp4") == (1, 1)
    assert kept.has_audio
    whole = derive(replace(job, video_out=tmp_path / "c.mp4", poster_out=tmp_path / "c.jpg",
                           start_ms=0, end_ms=None))  # fmt: skip
    assert whole.derivation["operations"][0] == "trim"
    for copy in (tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"):
        assert_anonymous(copy, master)
    assert silent.derivation["master_sha256"] == before == sha256_file(master)
    assert silent.derivation["copy_sha256"] == sha256_file(tmp_path / "a.mp4")
    # Trimmed at the keyframe before 1.2 s (one a second): 1.0 s to 3.5 s.
    assert silent.derivation["parameters"]["copy_starts_at_ms"] == 1000
    assert len(decoded(tmp_path / "a.mp4")) == round(2.5 * FPS)


def test_masks_are_black_or_blurred_on_every_frame_and_the_rest_is_unchanged(
    master: Path, tmp_path: Path
) -> None:
    job = DeriveJob(master, tmp_path / "m.mp4", tmp_path / "m.jpg", masks=(BLACK, BLUR))
    made = derive(job)
    assert "mask" in made.derivation["operations"]
    assert_anonymous(job.video_out, master)
    original, masked = decoded(master), decoded(job.video_out)
    assert len(masked) == len(original) == 4 * FPS
    assert min(detail(region(f, BLUR)) for f in original) > 2.0  # the region has detail to hide
    outside = np.ones(original[0].shape, dtype=bool)
    for mask in (BLACK, BLUR):
        x0, y0, x1, y1 = mask.pixels(640, 360)
        outside[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8] = False
    for before, after in zip(original, masked, strict=True):
        assert region(after, BLACK).max() <= 24  # black, within codec tolerance
        assert detail(region(after, BLUR)) < detail(region(before, BLUR)) / 4
        difference = np.abs(before.astype(np.int32) - after.astype(np.int32))[outside]
        assert difference.mean() < 3.0
    with av.open(str(job.poster_out)) as poster:
        picture = next(poster.decode(video=0)).to_ndarray(format="gray")
    assert region(picture, BLACK).max() <= 24


def test_an_exact_cut_starts_at_the_asked_time_and_an_empty_range_is_refused(
    master: Path, tmp_path: Path
) -> None:
    job = DeriveJob(master, tmp_path / "e.mp4", tmp_path / "e.jpg", start_ms=1400, end_ms=2400,
                    exact=True)  # fmt: skip
    made = derive(job)
    assert made.derivation["parameters"]["copy_starts_at_ms"] == pytest.approx(1400, abs=70)
    assert len(decoded(job.video_out)) == FPS
    assert_anonymous(job.video_out, master)
    with pytest.raises(DeriveError):
        derive(replace(job, start_ms=9000, end_ms=9500, exact=False))
    assert not (tmp_path / "e.mp4.tmp").exists()
