"""A share's copy of a clip: trimmed, audio dropped unless kept, masked, and carrying nothing
that could identify the home. Blocking (PyAV): run it on a thread. The master is only read.

- Without masks or an exact cut, the video is remuxed: whole GOPs from the keyframe at or
  before the trim's start. With them it is decoded, masked and encoded again (libx264).
- Kept audio is decoded and encoded again: FFmpeg's AAC encoder signs its first frame with its
  version, which a copy must not carry.
- The file is written by Doorstep's own fMP4 muxer, which writes no names, no times (every
  creation time is 0) and no camera text; SEI units (x264's settings, a camera's own data)
  are dropped from every sample. Times in the copy start at 0.
- The poster is the copy's first picture (masked), encoded without any metadata segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from doorstep.gateway.recording.clip_file import sha256_file
from doorstep.gateway.recording.poster import write_atomically
from doorstep.gateway.sharing.masks import Mask, apply_masks
from doorstep.gateway.sharing.mux import (
    CopyWriter,
    parameter_sets_of_annexb,
    parameter_sets_of_avcc,
    video_sample,
)
from doorstep.protocols.fmp4 import VIDEO_TIMESCALE, AudioTrack, VideoTrack

POSTER_WIDTH = 640
ENCODER = {"preset": "veryfast", "crf": "18"}
"""Masked copies: x264 at a quality where the unmasked picture stays as it was."""
AAC_BIT_RATE = 32_000
TOOL = f"Doorstep muxer; FFmpeg libavcodec via PyAV {av.__version__}"


class DeriveError(ValueError):
    """The master cannot be made into a copy (unreadable, or nothing in the range)."""


@dataclass(frozen=True, slots=True)
class DeriveJob:
    """What to make: from `master`, the range [start_ms, end_ms) (None: to the end)."""

    master: Path
    video_out: Path
    poster_out: Path
    start_ms: int = 0
    end_ms: int | None = None
    exact: bool = False
    audio: bool = False
    masks: tuple[Mask, ...] = ()


@dataclass(frozen=True, slots=True)
class Derived:
    """What was made, and the derivation record kept with the share."""

    size_bytes: int
    sha256: str
    duration_ms: int
    width: int
    height: int
    has_audio: bool
    derivation: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[float], None]


@dataclass(slots=True)
class _Packet:
    pts: int
    keyframe: bool
    data: bytes


def _video_packets(container: Any, stream: Any) -> Iterator[_Packet]:
    scale = Fraction(stream.time_base) * VIDEO_TIMESCALE
    for packet in container.demux(stream):
        if packet.size and packet.pts is not None:
            yield _Packet(int(packet.pts * scale), bool(packet.is_keyframe), bytes(packet))


def _from_keyframe(packets: Iterator[_Packet], start: int, end: int | None) -> Iterator[_Packet]:
    """The packets from the keyframe at or before `start` up to `end` (exclusive)."""
    gop: list[_Packet] = []
    started = False
    for packet in packets:
        if end is not None and packet.pts >= end:
            break
        if started:
            yield packet
            continue
        if packet.keyframe:
            gop = [packet]
        elif gop:
            gop.append(packet)
        if gop and packet.pts >= start:
            started = True
            yield from gop


def _poster(picture: Any) -> bytes:
    """A JPEG of one picture, at most 640 pixels wide, without any metadata segment."""
    width = min(POSTER_WIDTH, picture.width)
    height = max(2, round(picture.height * width / picture.width / 2) * 2)
    scaled = picture.reformat(width=width, height=height, format="yuvj420p")
    encoder: Any = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.flags |= av.codec.context.Flags.bitexact  # no "Lavc" comment segment
    encoder.options = {"qscale": "4"}
    scaled.pts = 0
    return b"".join(bytes(p) for p in [*encoder.encode(scaled), *encoder.encode(None)])


class _Audio:
    """The master's AAC decoded and encoded again (bit-exact mode: no encoder signature)."""

    def __init__(self, stream: Any) -> None:
        self.rate = int(stream.codec_context.sample_rate)
        self.time_base = Fraction(stream.time_base)
        self.decoder: Any = av.CodecContext.create("aac", "r")
        self.decoder.extradata = stream.codec_context.extradata
        encoder: Any = av.CodecContext.create("aac", "w")
        encoder.sample_rate, encoder.layout, encoder.format = self.rate, "mono", "fltp"
        encoder.bit_rate, encoder.time_base = AAC_BIT_RATE, Fraction(1, self.rate)
        encoder.flags |= av.codec.context.Flags.bitexact
        encoder.options = {"aac_coder": "fast"}
        encoder.open()
        self.encoder = encoder
        self.resampler = av.AudioResampler(format="fltp", layout="mono", rate=self.rate,
                                           frame_size=1024)  # fmt: skip
        self.track = AudioTrack(self.rate, 1, bytes(encoder.extradata or b""))

    def encode(self, packets: list[Any], start_s: float, end_s: float | None) -> list[bytes]:
        """AAC frames of the master's audio between the two times (seconds of the master)."""
        out: list[bytes] = []
        for packet in packets:
            if packet.pts is None:
                continue
            at = float(packet.pts * self.time_base)
            if at < start_s or (end_s is not None and at >= end_s):
                continue
            for frame in self.decoder.decode(packet):
                frame.pts = None
                for chunk in self.resampler.resample(frame):
                    out.extend(bytes(p) for p in self.encoder.encode(chunk))
        for chunk in self.resampler.resample(None):
            out.extend(bytes(p) for p in self.encoder.encode(chunk))
        out.extend(bytes(p) for p in self.encoder.encode(None))
        return out


def _encoder(width: int, height: int, rate: Fraction) -> Any:
    encoder: Any = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, VIDEO_TIMESCALE)
    encoder.framerate = rate
    encoder.gop_size = max(1, round(rate * 2))
    encoder.max_b_frames = 0  # the muxer writes no composition offsets
    encoder.options = dict(ENCODER)
    return encoder


class _Reencoder:
    """Decodes the master's packets, drops what is before the start for an exact cut, masks
    each picture and encodes it again; the first masked picture becomes the poster."""

    def __init__(self, stream: Any, job: DeriveJob, start: int) -> None:
        self.decoder: Any = av.CodecContext.create("h264", "r")
        self.decoder.extradata = stream.codec_context.extradata
        self.rate = Fraction(stream.guessed_rate or stream.average_rate or 30)
        self.job, self.start = job, start
        self.encoder: Any = None
        self.poster: bytes | None = None
        self.size = (0, 0)

    def packets(self, packets: Iterator[_Packet]) -> Iterator[_Packet]:
        """The re-encoded packets (Annex B, parameter sets on keyframes)."""
        for packet in packets:
            for picture in self.decoder.decode(av.Packet(packet.data)):
                yield from self._encode(picture, packet.pts if picture.pts is None else picture.pts)
        for picture in self.decoder.decode(None):
            yield from self._encode(picture, picture.pts or 0)
        if self.encoder is not None:
            yield from self._out(self.encoder.encode(None))

    def _encode(self, picture: Any, pts: int) -> Iterator[_Packet]:
        if self.job.exact and pts < self.start:
            return
        width, height = picture.width // 2 * 2, picture.height // 2 * 2
        array = picture.to_ndarray(format="yuv420p", width=width, height=height)
        apply_masks(array, width, height, self.job.masks)
        masked = av.VideoFrame.from_ndarray(array, format="yuv420p")
        if self.poster is None:
            self.poster = _poster(masked)
        if self.encoder is None:
            self.encoder, self.size = _encoder(width, height, self.rate), (width, height)
        masked.pts = pts
        yield from self._out(self.encoder.encode(masked))

    @staticmethod
    def _out(encoded: Any) -> Iterator[_Packet]:
        for out in encoded:
            yield _Packet(int(out.pts), bool(out.is_keyframe), bytes(out))


def derive(job: DeriveJob, progress: Progress = lambda _: None) -> Derived:
    """Make the copy and its poster; raises `DeriveError` when the master cannot give one."""
    master_sha = sha256_file(job.master)
    try:
        with av.open(str(job.master)) as container:
            if not container.streams.video:
                raise DeriveError("the clip has no video")
            return _derive(container, job, master_sha, progress)
    except av.error.FFmpegError as exc:
        raise DeriveError(f"the clip cannot be read: {type(exc).__name__}") from None


def _origin(container: Any, video: Any, start: int, exact: bool) -> tuple[int, int]:
    """(the master's first decode time, the copy's first): the keyframe at or before `start`,
    or the first frame at or after it for an exact cut."""
    first: int | None = None
    origin: int | None = None
    for packet in _video_packets(container, video):
        first = packet.pts if first is None else first
        if packet.pts > start and origin is not None:
            break
        if (exact and packet.pts >= start) or (not exact and packet.keyframe):
            origin = packet.pts
            if exact:
                break
    container.seek(0)
    if first is None or origin is None:
        raise DeriveError("nothing of the clip is in that range")
    return first, origin


def _derive(container: Any, job: DeriveJob, master_sha: str, progress: Progress) -> Derived:
    video = container.streams.video[0]
    first, _ = _origin(container, video, 0, exact=False)
    start = first + job.start_ms * VIDEO_TIMESCALE // 1000
    end = None if job.end_ms is None else first + job.end_ms * VIDEO_TIMESCALE // 1000
    _, origin = _origin(container, video, start, job.exact)
    audio, frames = None, []
    if job.audio and container.streams.audio:
        audio = _Audio(container.streams.audio[0])
        to_s = None if end is None else (end - first) / VIDEO_TIMESCALE
        frames = audio.encode(list(container.demux(container.streams.audio[0])),
                              (origin - first) / VIDEO_TIMESCALE, to_s)  # fmt: skip
        container.seek(0)
    reencoder = _Reencoder(video, job, start) if job.masks or job.exact else None
    packets = _from_keyframe(_video_packets(container, video), start, end)
    if reencoder is not None:
        packets = reencoder.packets(packets)
    span = max(1, (end or first + 600 * VIDEO_TIMESCALE) - start)
    writer: CopyWriter | None = None
    try:
        for packet in packets:
            if writer is None:
                size = reencoder.size if reencoder else (video.codec_context.width,
                                                         video.codec_context.height)  # fmt: skip
                track = _track(packet, video, size, annexb=reencoder is not None)
                writer = CopyWriter(job.video_out, track, audio.track if audio else None, frames)
            writer.add(video_sample(packet.data, annexb=reencoder is not None),
                       packet.pts - origin, packet.keyframe)  # fmt: skip
            progress(min(0.95, max(0.0, (packet.pts - start) / span)))
        if writer is None:
            raise DeriveError("nothing of the clip is in that range")
        duration_ms = writer.close()
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    poster = (reencoder.poster if reencoder else None) or _first_picture_poster(job.video_out)
    write_atomically(job.poster_out, poster)
    progress(1.0)
    copy_sha = sha256_file(job.video_out)
    operations = [
        "trim", *(["reencode", "mask"] if job.masks else []), *(["exact_cut"] if job.exact else []),
        "audio_reencoded" if audio else "audio_removed", "metadata_stripped",
    ]  # fmt: skip
    return Derived(
        size_bytes=job.video_out.stat().st_size, sha256=copy_sha, duration_ms=duration_ms,
        width=writer.video.width, height=writer.video.height, has_audio=audio is not None,
        derivation={
            "master_sha256": master_sha, "copy_sha256": copy_sha,
            "poster_sha256": hashlib.sha256(poster).hexdigest(),
            "operations": operations,
            "parameters": {
                "start_ms": job.start_ms, "end_ms": job.end_ms, "exact": job.exact,
                "audio": job.audio,
                "masks": [[m.x, m.y, m.w, m.h, m.style] for m in job.masks],
                "copy_starts_at_ms": round((origin - first) * 1000 / VIDEO_TIMESCALE),
                "encoder": dict(ENCODER) if reencoder else None,
            },
            "tools": TOOL,
        },
    )  # fmt: skip


def _track(packet: _Packet, stream: Any, size: tuple[int, int], *, annexb: bool) -> VideoTrack:
    """The copy's video track: parameter sets from the first packet (re-encoded, Annex B) or
    from the master's `avcC`."""
    found = (
        parameter_sets_of_annexb(packet.data)
        if annexb
        else parameter_sets_of_avcc(bytes(stream.codec_context.extradata or b""))
    )
    if found is None:
        raise DeriveError("the clip's video has no parameter sets")
    sps, pps = found
    return VideoTrack(sps, pps, int(size[0]), int(size[1]))


def _first_picture_poster(path: Path) -> bytes:
    with av.open(str(path)) as container:
        for picture in container.decode(container.streams.video[0]):
            return _poster(picture)
    raise DeriveError("the copy gives no picture")
