"""A WebRTC video track that hands the camera's H.264 access units to aiortc as encoded packets."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ..media.hub import Consumer

VIDEO_TIME_BASE = Fraction(1, 90000)
_WRAP = 1 << 32


class PassthroughVideoTrack(MediaStreamTrack):
    """Reads a hub consumer; aiortc packetises the packets without decoding (`encoder.pack`)."""

    kind = "video"

    def __init__(self, consumer: Consumer) -> None:
        super().__init__()
        self._consumer = consumer
        self._first: int | None = None
        self._last = 0
        self._wraps = 0
        self.frames = 0

    def _pts(self, timestamp: int) -> int:
        # RTP timestamps are 32-bit and wrap about every 13 hours at 90 kHz: unwrap, then count
        # from this viewer's first frame.
        if self._first is None:
            self._first = timestamp
        elif timestamp < self._last and self._last - timestamp > _WRAP // 2:
            self._wraps += 1
        self._last = timestamp
        return timestamp + self._wraps * _WRAP - self._first

    async def recv(self) -> av.Packet[Any]:  # encoded passthrough: aiortc packs it as is
        if self.readyState != "live":
            raise MediaStreamError
        unit = await self._consumer.get()
        packet = av.Packet(unit.data)
        packet.pts = packet.dts = self._pts(unit.timestamp)
        packet.time_base = VIDEO_TIME_BASE
        self.frames += 1
        return packet

    def stop(self) -> None:
        """Stop the track and release the hub consumer."""
        super().stop()
        self._consumer.close()
