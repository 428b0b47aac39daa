"""A clip's poster: ONE keyframe decoded and written as a small JPEG. Blocking: run on a thread.

Built from the encoder's own bytes, so the image carries no metadata (no EXIF, no camera name).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

POSTER_WIDTH = 640
POSTER_SUFFIX = ".jpg"


class PosterError(ValueError):
    """The keyframe could not be decoded into a picture."""


def poster_path(clip: Path) -> Path:
    """Where a clip's poster lives: beside it, same name, `.jpg`."""
    return clip.with_suffix(POSTER_SUFFIX)


def render_poster(keyframe: bytes) -> bytes:
    """A JPEG of an Annex B keyframe (parameter sets included), at most 640 pixels wide."""
    decoder: Any = av.CodecContext.create("h264", "r")
    try:
        pictures = [*decoder.decode(av.Packet(keyframe)), *decoder.decode(None)]
    except av.error.FFmpegError as exc:
        raise PosterError(f"the keyframe does not decode: {exc}") from None
    if not pictures:
        raise PosterError("the keyframe gave no picture")
    picture = pictures[0]
    width = min(POSTER_WIDTH, picture.width)
    height = max(2, round(picture.height * width / picture.width / 2) * 2)
    scaled = picture.reformat(width=width, height=height, format="yuvj420p")
    encoder: Any = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.options = {"qscale": "5"}
    scaled.pts = 0
    return b"".join(bytes(p) for p in [*encoder.encode(scaled), *encoder.encode(None)])


def write_atomically(target: Path, data: bytes) -> None:
    """Write a small file so that a reader never sees half of it (fsynced, mode 0640)."""
    temporary = target.with_name(target.name + ".tmp")
    with temporary.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(temporary, 0o640)
    os.replace(temporary, target)


def write_poster(clip: Path, keyframe: bytes) -> Path:
    """Render and write a clip's poster (atomically: a reader never sees half an image)."""
    target = poster_path(clip)
    write_atomically(target, render_poster(keyframe))
    return target


def first_keyframe(clip: Path) -> bytes:
    """The first keyframe of a clip file as Annex B, for a poster made after a crash."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        bsf = av.BitStreamFilterContext("h264_mp4toannexb", stream)
        for packet in container.demux(stream):
            if packet.is_keyframe and packet.size:
                return b"".join(bytes(p) for p in bsf.filter(packet))
    raise PosterError("the clip has no keyframe")
