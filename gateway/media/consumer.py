"""A reader of one camera stream: its bounded video and audio queues (see hub.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from doorstep.protocols.h264 import AccessUnit

MAX_GOP_FRAMES = 300  # cap the cache for cameras with very long GOPs
CONSUMER_QUEUE = MAX_GOP_FRAMES + 60  # a whole cached GOP primes a viewer, with room to spare;
# past it a consumer skips to the next keyframe
UNIT_OVERHEAD = 128  # bytes charged per queued frame or chunk, so empty ones are not free
AUDIO_QUEUE = 50  # one second of 20 ms packets; older ones are dropped for a slow reader
AUDIO_BUDGET_BYTES = 256 * 1024


class Source(Protocol):
    """The stream a consumer reads (hub.CameraStream)."""

    max_bytes: int
    audio_encoding: str | None

    def _remove(self, consumer: Consumer) -> None: ...


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """One RTP payload of the camera's audio, with its codec and RTP timestamp."""

    data: bytes
    timestamp: int
    encoding: str
    clock_rate: int


class Consumer:
    """One reader of a camera stream; iterate it for access units."""

    def __init__(self, stream: Source, audio: bool = False, bulk: bool = False) -> None:
        self._stream = stream
        self.bulk = bulk
        """Takes frames in batches and does not mind their delay (the recorder), unlike a
        viewer: a stream read by bulk consumers only reads its camera less often."""
        self._queue: asyncio.Queue[AccessUnit] = asyncio.Queue()
        self._queued_bytes = 0
        self.max_bytes = stream.max_bytes + stream.max_bytes // 4
        self._audio: asyncio.Queue[AudioChunk] | None = asyncio.Queue() if audio else None
        self._audio_bytes = 0
        self._waiting_for_keyframe = False
        self.skipped = 0

    @property
    def audio_encoding(self) -> str | None:
        """The camera's audio codec as last seen on its stream (None: none, or not seen yet)."""
        return self._stream.audio_encoding

    @property
    def behind(self) -> int:
        """Access units waiting to be read (more than zero: the reader is behind live)."""
        return self._queue.qsize()

    def _offer_audio(self, chunk: AudioChunk) -> None:
        if self._audio is None:
            return
        cost = len(chunk.data) + UNIT_OVERHEAD
        while not self._audio.empty() and (
            self._audio.qsize() >= AUDIO_QUEUE or self._audio_bytes + cost > AUDIO_BUDGET_BYTES
        ):
            self._audio_bytes -= len(self._audio.get_nowait().data) + UNIT_OVERHEAD
        self._audio.put_nowait(chunk)
        self._audio_bytes += cost

    async def get_audio(self) -> AudioChunk:
        """The next audio payload (waits forever on a camera without audio)."""
        if self._audio is None:
            raise RuntimeError("this consumer did not ask for audio")
        chunk = await self._audio.get()
        self._audio_bytes -= len(chunk.data) + UNIT_OVERHEAD
        return chunk

    async def get_audio_batch(self) -> list[AudioChunk]:
        """Every audio payload waiting, at least one (see `get_batch`)."""
        if self._audio is None:
            raise RuntimeError("this consumer did not ask for audio")
        chunks = [await self._audio.get()]
        while not self._audio.empty():
            chunks.append(self._audio.get_nowait())
        self._audio_bytes -= sum(len(chunk.data) for chunk in chunks) + UNIT_OVERHEAD * len(chunks)
        return chunks

    def _offer(self, unit: AccessUnit) -> None:
        if self._waiting_for_keyframe and not unit.keyframe:
            self.skipped += 1
            return
        self._waiting_for_keyframe = False
        cost = len(unit.data) + UNIT_OVERHEAD
        if self._queue.qsize() >= CONSUMER_QUEUE or self._queued_bytes + cost > self.max_bytes:
            # Behind by a whole queue: drop what is queued and resume at the next keyframe,
            # as dropping single frames would leave the decoder with broken references.
            while not self._queue.empty():
                self._queue.get_nowait()
                self.skipped += 1
            self._queued_bytes = 0
            if not unit.keyframe or cost > self.max_bytes:
                self._waiting_for_keyframe = True
                self.skipped += 1
                return
        self._queue.put_nowait(unit)
        self._queued_bytes += cost

    @property
    def queued_bytes(self) -> int:
        """Bytes of video waiting to be read."""
        return self._queued_bytes

    async def get(self) -> AccessUnit:
        """The next access unit."""
        unit = await self._queue.get()
        self._queued_bytes -= len(unit.data) + UNIT_OVERHEAD
        return unit

    async def get_batch(self) -> list[AccessUnit]:
        """Every access unit waiting, at least one: a bulk reader wakes once per camera read
        (the hub publishes all of a read's frames at once) instead of once per frame."""
        units = [await self._queue.get()]
        while not self._queue.empty():
            units.append(self._queue.get_nowait())
        self._queued_bytes -= sum(len(unit.data) for unit in units) + UNIT_OVERHEAD * len(units)
        return units

    def __aiter__(self) -> AsyncIterator[AccessUnit]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[AccessUnit]:
        while True:
            yield await self.get()

    def close(self) -> None:
        """Stop reading (the upstream session closes after the last consumer, with a linger)."""
        self._stream._remove(self)
