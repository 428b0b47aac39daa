"""Pre-encoded media for simulated cameras: an H.264 test-pattern loop, a µ-law tone, a JPEG.

Everything is encoded once at start-up (blocking: run it in a thread) and replayed, so serving
many cameras costs packetisation only, never encoding.
"""

from __future__ import annotations

import base64
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from doorstep.protocols.h264 import split_annexb

ULAW_SAMPLE_RATE = 8000
ULAW_FRAME_SAMPLES = 160  # 20 ms per RTP packet, as cameras send G.711

# Seven-segment layout of the digits 0-9: segments a b c d e f g.
_SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg",
    "5": "acdfg", "6": "acdefg", "7": "abc", "8": "abcdefg", "9": "abcdfg",
}  # fmt: skip

_BAR_COLOURS = np.array(
    [[192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0],
     [192, 0, 192], [192, 0, 0], [0, 0, 192], [16, 16, 16]],
    dtype=np.uint8,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One access unit: its NAL units (no start codes) and whether it starts a GOP."""

    nals: tuple[bytes, ...]
    keyframe: bool


@dataclass(frozen=True, slots=True)
class VideoLoop:
    """A looping H.264 stream plus what an SDP needs to describe it."""

    width: int
    height: int
    fps: int
    frames: tuple[EncodedFrame, ...]
    sps: bytes
    pps: bytes

    @property
    def profile_level_id(self) -> str:
        """The SDP profile-level-id: profile_idc, constraint flags, level_idc."""
        return self.sps[1:4].hex()

    @property
    def sprop_parameter_sets(self) -> str:
        """The SDP sprop-parameter-sets value: base64 SPS and PPS."""
        return ",".join(base64.b64encode(n).decode() for n in (self.sps, self.pps))


def _draw_digit(rgb: npt.NDArray[np.uint8], char: str, x: int, y: int, size: int) -> None:
    t = max(2, size // 5)  # stroke thickness
    w, h = size, size * 2
    boxes = {
        "a": (x, y, w, t), "b": (x + w - t, y, t, h // 2), "c": (x + w - t, y + h // 2, t, h // 2),
        "d": (x, y + h - t, w, t), "e": (x, y + h // 2, t, h // 2), "f": (x, y, t, h // 2),
        "g": (x, y + h // 2 - t // 2, w, t),
    }  # fmt: skip
    for segment in _SEGMENTS.get(char, ""):
        bx, by, bw, bh = boxes[segment]
        rgb[by : by + bh, bx : bx + bw] = 255


def render_pattern(index: int, fps: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Colour bars that scroll, a bouncing box, and a clock (seconds.tenths) of the loop."""
    shift = index * max(1, width // 160)  # the bars scroll a few pixels per frame
    columns = ((np.arange(width) + shift) * len(_BAR_COLOURS) // width) % len(_BAR_COLOURS)
    rgb = np.ascontiguousarray(np.broadcast_to(_BAR_COLOURS[columns], (height, width, 3)))
    box = max(8, height // 8)
    travel = max(1, width - box)
    bx = abs((index * 6) % (2 * travel) - travel)
    rgb[height // 2 - box // 2 : height // 2 + box // 2, bx : bx + box] = 255
    seconds = index / fps
    text = f"{int(seconds) % 100:02d}{int(seconds * 10) % 10}"
    size = max(6, height // 12)
    rgb[8 : 8 + size * 2 + 16, 8 : 8 + 4 * (size + size // 2) + 16] = 0
    for i, char in enumerate(text):
        _draw_digit(rgb, char, 16 + i * (size + size // 2) + (size // 2 if i == 2 else 0), 16, size)
    dot = 16 + 2 * (size + size // 2) - size // 4
    rgb[16 + size * 2 - 4 : 16 + size * 2, dot : dot + 4] = 255
    return rgb


GRAIN = 3
"""Sensor-like noise (± levels) added when a bitrate is asked for: the clean pattern compresses to
about 1.4 Mbit/s at 1080p30 whatever the encoder is told, a real sensor's noise does not."""


def encode_video_loop(
    width: int = 640,
    height: int = 360,
    fps: int = 15,
    seconds: int = 10,
    bitrate_kbps: int | None = None,
) -> VideoLoop:
    """Encode the test pattern once with libx264: no B-frames, an IDR every second.

    With `bitrate_kbps` the pattern gets grain and the encoder a camera-like constant bitrate
    (VBV-capped), so a benchmark moves as many bytes and packets as a real camera would.
    """
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, fps)
    codec.framerate = Fraction(fps, 1)
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": "baseline",
        # In-band SPS/PPS before every IDR so a viewer can join at any keyframe; sliced
        # threads would split each IDR into packets with equal DTS (NOTES-MEDIA.md).
        "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0:repeat-headers=1:"
        "sliced-threads=0:threads=1"
        + (f":bitrate={bitrate_kbps}:vbv-maxrate={bitrate_kbps}:vbv-bufsize={bitrate_kbps // 2}"
           if bitrate_kbps else ""),
    }  # fmt: skip
    grain = np.random.default_rng(0) if bitrate_kbps else None
    frames: list[EncodedFrame] = []
    total = fps * seconds

    def collect(packets: list[av.Packet[Any]]) -> None:
        for packet in packets:
            frames.append(
                EncodedFrame(tuple(split_annexb(bytes(packet))), bool(packet.is_keyframe))
            )

    for index in range(total):
        rgb = render_pattern(index, fps, width, height)
        if grain is not None:
            noise = grain.integers(-GRAIN, GRAIN + 1, size=(height, width, 1), dtype=np.int16)
            rgb = np.clip(rgb + noise, 0, 255).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = index
        collect(codec.encode(frame))
    collect(codec.encode(None))
    sps = next(n for f in frames for n in f.nals if n[0] & 0x1F == 7)
    pps = next(n for f in frames for n in f.nals if n[0] & 0x1F == 8)
    if not frames[0].keyframe:
        raise RuntimeError("the encoded loop does not start with a keyframe")
    return VideoLoop(width, height, fps, tuple(frames), sps, pps)


def encode_jpeg(width: int = 640, height: int = 360) -> bytes:
    """One JPEG still of the test pattern, for the snapshot URI."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(render_pattern(0, 15, width, height), format="rgb24")
    frame = frame.reformat(format="yuvj420p")
    frame.pts = 0
    return b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)])


def _ulaw_table() -> npt.NDArray[np.uint8]:
    """µ-law code for every 16-bit sample (ITU-T G.711, with the usual 0x84 bias)."""
    samples = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(samples < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(samples), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes


_ULAW_ENCODE = _ulaw_table()


def _ulaw_decode_table() -> npt.NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_ULAW_DECODE = _ulaw_decode_table()


def ulaw_encode(pcm: npt.NDArray[np.int16]) -> bytes:
    """Encode signed 16-bit samples as G.711 µ-law."""
    return _ULAW_ENCODE[pcm.astype(np.int32) + 32768].tobytes()


def ulaw_decode(data: bytes) -> npt.NDArray[np.int16]:
    """Decode G.711 µ-law to signed 16-bit samples."""
    return _ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def tone_ulaw(frequency: float = 440.0, seconds: int = 10, level: float = 0.3) -> bytes:
    """A sine tone as µ-law at 8 kHz; a whole number of periods per loop."""
    t = np.arange(seconds * ULAW_SAMPLE_RATE) / ULAW_SAMPLE_RATE
    pcm = (np.sin(2 * np.pi * frequency * t) * level * 32767).astype(np.int16)
    return ulaw_encode(pcm)


def write_tone_wav(path: Path, frequency: float, seconds: float = 5.0, rate: int = 48_000) -> Path:
    """A mono 16-bit WAV of a sine tone: the known voice for Chromium's fake microphone."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * frequency * t) * 12000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def dominant_frequency(pcm: npt.NDArray[np.int16], rate: int = ULAW_SAMPLE_RATE) -> float:
    """The strongest frequency in a signal (Hz), for checking what reached a speaker."""
    if len(pcm) == 0:
        return 0.0
    window = np.hanning(len(pcm))
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64) * window))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[int(np.argmax(spectrum))])
