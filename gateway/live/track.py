"""WebRTC tracks fed by the stream hub: the camera's H.264 passed through, and its audio."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame

from ..media.hub import Consumer

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK)
_WRAP = 1 << 32
G711_RATE = 8000  # the only rate WebRTC's PCMU/PCMA take
CATCH_UP_S = 0.010
"""Pace of frames sent while a viewer is behind live (the cached GOP that primes it, or what
queued while its connection was set up).

Sent at once with their own timestamps, such frames reach the browser as one burst of old
frames and its jitter buffer drops them as too late. Sent this far apart and stamped this far
apart, they look to the browser like a fast, punctual stream: it decodes every one, and the
viewer reaches live after about GOP length times this."""


class PassthroughVideoTrack(MediaStreamTrack):
    """Reads a hub consumer; aiortc packetises the packets without decoding (`encoder.pack`)."""

    kind = "video"

    def __init__(self, consumer: Consumer) -> None:
        super().__init__()
        self._consumer = consumer
        self._first: int | None = None
        self._last = 0
        self._wraps = 0
        self._offset = 0
        self._pts = 0
        self.frames = 0
        self.caught_up_frames = 0

    def _relative(self, timestamp: int) -> int:
        # RTP timestamps are 32-bit and wrap about every 13 hours at 90 kHz: unwrap, counting
        # from this viewer's first frame.
        if self._first is None:
            self._first = self._last = timestamp
        elif timestamp < self._last and self._last - timestamp > _WRAP // 2:
            self._wraps += 1
        self._last = timestamp
        return timestamp + self._wraps * _WRAP - self._first

    async def recv(self) -> av.Packet[Any]:  # encoded passthrough: aiortc packs it as is
        if self.readyState != "live":
            raise MediaStreamError
        catching_up = self.frames > 0 and self._consumer.behind > 0
        if catching_up:
            await asyncio.sleep(CATCH_UP_S)
        unit = await self._consumer.get()
        relative = self._relative(unit.timestamp)
        if catching_up:
            # Behind live: stamp it one catch-up step after the previous frame, and shift the
            # following frames' clock to match, so live frames continue from here.
            pts = self._pts + round(CATCH_UP_S * VIDEO_CLOCK)
            self._offset = pts - relative
            self.caught_up_frames += 1
        else:
            pts = max(relative + self._offset, self._pts + 1 if self.frames else 0)
        self._pts = pts
        packet = av.Packet(unit.data)
        packet.pts = packet.dts = pts
        packet.time_base = VIDEO_TIME_BASE
        self.frames += 1
        return packet

    def stop(self) -> None:
        """Stop the track and release the hub consumer."""
        super().stop()
        self._consumer.close()


class CameraAudioTrack(MediaStreamTrack):
    """The camera's G.711 audio for the browser: passed through when the browser took the
    camera's codec, else decoded to PCM for aiortc to encode."""

    kind = "audio"

    def __init__(self, consumer: Consumer) -> None:
        super().__init__()
        self._consumer = consumer
        self._decoders: dict[str, Any] = {}
        self._pending: list[AudioFrame] = []
        self._start: int | None = None
        self.passthrough: str | None = None
        """The codec negotiated with the browser (`PCMU`, `PCMA`); chunks already in it go out
        as they came, with no decode, re-encode or per-frame worker-thread hop in aiortc."""
        self.chunks = 0
        self.passed = 0

    def _decoder(self, encoding: str, rate: int) -> Any:
        key = f"{encoding}/{rate}"
        if key not in self._decoders:
            name = {"PCMU": "pcm_mulaw", "PCMA": "pcm_alaw"}[encoding]
            context: Any = av.CodecContext.create(name, "r")
            context.sample_rate = rate
            context.layout = "mono"
            self._decoders[key] = context
        return self._decoders[key]

    async def recv(self) -> AudioFrame | av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        while not self._pending:
            chunk = await self._consumer.get_audio()
            if self._start is None:
                self._start = chunk.timestamp
            packet = av.Packet(chunk.data)
            packet.pts = (chunk.timestamp - self._start) % _WRAP
            packet.time_base = Fraction(1, chunk.clock_rate)
            if chunk.encoding == self.passthrough and chunk.clock_rate == G711_RATE:
                self.chunks += 1
                self.passed += 1
                return packet
            decoder = self._decoder(chunk.encoding, chunk.clock_rate)
            self._pending = list(decoder.decode(packet))
        self.chunks += 1
        return self._pending.pop(0)
