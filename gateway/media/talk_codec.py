"""Encode microphone audio for a camera's speaker: G.711 µ-law / A-law or AAC (RFC 3640 payloads).

Input is whatever aiortc decoded from the browser's Opus (20 ms of s16 stereo at 48 kHz); output
is RTP payloads with the number of samples each covers at the camera's clock. PyAV (FFmpeg)
does the resampling and the encoding.
"""

from __future__ import annotations

from typing import Any

import av
from av.audio.frame import AudioFrame

G711_FRAME_MS = 20
AAC_FRAME_SAMPLES = 1024


class UnsupportedTalkCodec(ValueError):
    """The camera asked for an audio codec Doorstep cannot produce."""


class TalkEncoder:
    """Turns decoded audio frames into RTP payloads for one backchannel codec."""

    def __init__(self, codec: str, sample_rate: int, fmtp: dict[str, str] | None = None) -> None:
        if sample_rate <= 0:
            raise UnsupportedTalkCodec("the backchannel has no clock rate")
        self.codec = codec.upper()
        self.sample_rate = sample_rate
        names = {"PCMU": "pcm_mulaw", "PCMA": "pcm_alaw", "AAC": "aac"}
        if self.codec not in names:
            raise UnsupportedTalkCodec(f"cannot encode {codec} for the camera's speaker")
        context: Any = av.CodecContext.create(names[self.codec], "w")
        context.sample_rate = sample_rate
        context.layout = "mono"
        if self.codec == "AAC":
            mode = (fmtp or {}).get("mode", "AAC-hbr")
            if mode.lower() != "aac-hbr":
                raise UnsupportedTalkCodec(f"cannot send AAC in mode {mode}")
            context.format = "fltp"
            context.bit_rate = 32_000
            frame_size = AAC_FRAME_SAMPLES
            sample_format = "fltp"
        else:
            context.format = "s16"
            frame_size = sample_rate * G711_FRAME_MS // 1000
            sample_format = "s16"
        context.open()
        self._context = context
        self._frame_size = frame_size
        self._resampler = av.AudioResampler(
            format=sample_format, layout="mono", rate=sample_rate, frame_size=frame_size
        )

    def encode(self, frame: AudioFrame | None) -> list[tuple[bytes, int]]:
        """RTP payloads (with the samples each covers) for one input frame; None flushes."""
        out: list[tuple[bytes, int]] = []
        for resampled in self._resampler.resample(frame):
            for packet in self._context.encode(resampled):
                out.append(self._payload(bytes(packet)))
        return out

    def _payload(self, data: bytes) -> tuple[bytes, int]:
        if self.codec != "AAC":
            return data, len(data)
        # RFC 3640 AAC-hbr: a 16-bit AU-headers-length (in bits), then one 16-bit AU header of
        # a 13-bit access unit size and a 3-bit index.
        header = (16).to_bytes(2, "big") + ((len(data) << 3) & 0xFFFF).to_bytes(2, "big")
        return header + data, AAC_FRAME_SAMPLES
