"""What an RTSP connection received, waiting for its one reader: interleaved packets and, for a
channel depacketized as it is read, whole H.264 access units. Bounded in bytes: a reader that
falls behind loses the oldest, never more than the budget."""

from __future__ import annotations

import asyncio
from collections import deque

from doorstep.protocols.h264 import AccessUnit, H264Depacketizer
from doorstep.protocols.rtsp_framing import RtspError

PACKET_OVERHEAD = 100  # bytes charged per queued packet or frame, so empty ones are not free


class MediaQueue:
    """The receiving side of one RTSP session, between its connection and its reader."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.video: H264Depacketizer | None = None
        """The depacketizer whose completed frames are queued (see `RtspClient.receive_video`)."""
        self._packets: deque[tuple[int, bytes]] = deque()
        self._units: deque[AccessUnit] = deque()
        self._packet_bytes = 0
        self._unit_bytes = 0
        self._media_reads = 0
        self._closed = False
        self._wakeup: asyncio.Future[None] | None = None
        self.dropped = 0
        """Packets and frames a reader that fell behind lost to the byte budget."""

    @property
    def queued_bytes(self) -> int:
        """Bytes of packets and frames waiting (with their overhead); the budget is for both."""
        return self._packet_bytes + self._unit_bytes

    @property
    def closed(self) -> bool:
        """The connection is gone."""
        return self._closed

    def close(self) -> None:
        """The connection is gone: a waiting reader gets RtspError."""
        self._closed = True
        self._wake()

    def add(self, packets: list[tuple[int, bytes]]) -> None:
        """A read's packets and the frames it completed: queued within the byte budget; the
        reader is woken once."""
        self._media_reads += 1
        video = self.video
        if video is not None and video.completed:
            units, video.completed = video.completed, []
            for unit in units:  # a few per read (a frame is dozens of packets)
                cost = len(unit.data) + PACKET_OVERHEAD
                self._make_room(cost)
                self._units.append(unit)
                self._unit_bytes += cost
        if packets:
            self._add_packets(packets)
        self._wake()

    def _add_packets(self, packets: list[tuple[int, bytes]]) -> None:
        cost = sum([len(data) for _, data in packets]) + PACKET_OVERHEAD * len(packets)
        if self.queued_bytes + cost <= self.max_bytes:
            # The usual case, the reader keeping up: the whole read at once. A read holds ~40
            # packets; a call per packet was 7 % of the event loop's profile with 9 streams.
            self._packets.extend(packets)
            self._packet_bytes += cost
            return
        for channel, data in packets:
            cost = len(data) + PACKET_OVERHEAD
            self._make_room(cost)
            self._packets.append((channel, data))
            self._packet_bytes += cost

    def _make_room(self, cost: int) -> None:
        """Drop the oldest of what is queued (frames, then packets) until `cost` more fits."""
        while self._units and self.queued_bytes + cost > self.max_bytes:
            old = self._units.popleft()
            self._unit_bytes -= len(old.data) + PACKET_OVERHEAD
            self.dropped += 1
        while self._packets and self.queued_bytes + cost > self.max_bytes:
            _, data = self._packets.popleft()
            self._packet_bytes -= len(data) + PACKET_OVERHEAD
            self.dropped += 1

    async def packets(self, wait_s: float | None = None) -> list[tuple[int, bytes]]:
        """Every (channel, packet) queued, waiting for one if none is. RtspError if the
        connection closed (or nothing came in `wait_s`)."""
        await self._until_queued(wait_s)
        return self._take_packets()

    async def media(
        self, wait_s: float | None = None
    ) -> tuple[list[AccessUnit], list[tuple[int, bytes]]]:
        """Every frame and every packet queued, waiting for one of either if none is."""
        await self._until_queued(wait_s, units=True)
        units = list(self._units)
        self._units.clear()
        self._unit_bytes = 0
        return units, self._take_packets()

    async def packet(self, wait_s: float | None = None) -> tuple[int, bytes]:
        """The next (channel, packet)."""
        await self._until_queued(wait_s)
        channel, data = self._packets.popleft()
        self._packet_bytes -= len(data) + PACKET_OVERHEAD
        return channel, data

    def _take_packets(self) -> list[tuple[int, bytes]]:
        batch = list(self._packets)
        self._packets.clear()
        self._packet_bytes = 0
        return batch

    async def _until_queued(self, wait_s: float | None, units: bool = False) -> None:
        """Return once a packet (or, with `units`, a frame) is queued: RtspError when the
        connection closes first, or nothing comes within `wait_s`."""

        def queued() -> bool:
            return bool(self._packets) or (units and bool(self._units))

        if queued():
            return
        reads = self._media_reads
        try:
            async with asyncio.timeout(wait_s):
                while not queued():
                    if self._closed:
                        raise RtspError("connection closed")
                    self._wakeup = asyncio.get_running_loop().create_future()
                    try:
                        await self._wakeup
                    finally:
                        self._wakeup = None
        except TimeoutError:
            if units and self._media_reads != reads:  # video came, but not one whole frame
                raise RtspError(f"no video frame for {wait_s:.0f} s") from None
            raise RtspError("no packet in time") from None

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
