"""A reader of one camera stream: its bounded video and audio queues (see hub.py)."""

from __future__ import annotations

import asyncio
from collections import deque
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

    def hurry(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """One RTP payload of the camera's audio, with its codec and RTP timestamp."""

    data: bytes
    timestamp: int
    encoding: str
    clock_rate: int


class Consumer:
    """One reader of a camera stream; iterate it for access units. One task waits on each
    kind at a time (`get`, `get_audio`, `get_media`)."""

    def __init__(self, stream: Source, audio: bool = False, bulk: bool = False) -> None:
        self._stream = stream
        self.bulk = bulk
        """Takes frames in batches and does not mind their delay (the recorder), unlike a
        viewer: a stream read by bulk consumers only reads its camera less often."""
        self._units: deque[AccessUnit] = deque()
        self._queued_bytes = 0
        self.max_bytes = stream.max_bytes + stream.max_bytes // 4
        self._audio: deque[AudioChunk] | None = deque() if audio else None
        self._audio_bytes = 0
        self._waiting_for_keyframe = False
        self.skipped = 0
        # The task waiting in `get`, `get_audio` or `get_media`: a viewer reads its video and
        # its audio from two tasks, and each wakes for its own kind only.
        self._video_waiter: asyncio.Future[None] | None = None
        self._audio_waiter: asyncio.Future[None] | None = None
        self._media_waiter: asyncio.Future[None] | None = None

    @property
    def audio_encoding(self) -> str | None:
        """The camera's audio codec as last seen on its stream (None: none, or not seen yet)."""
        return self._stream.audio_encoding

    def hurry(self) -> None:
        """Have the stream read its camera now (a bulk consumer that needs its next frame)."""
        self._stream.hurry()

    @property
    def behind(self) -> int:
        """Access units waiting to be read (more than zero: the reader is behind live)."""
        return len(self._units)

    def _offer_audio(self, chunk: AudioChunk) -> None:
        audio = self._audio
        if audio is None:
            return
        cost = len(chunk.data) + UNIT_OVERHEAD
        while audio and (
            len(audio) >= AUDIO_QUEUE or self._audio_bytes + cost > AUDIO_BUDGET_BYTES
        ):
            self._audio_bytes -= len(audio.popleft().data) + UNIT_OVERHEAD
        audio.append(chunk)
        self._audio_bytes += cost
        _wake(self._audio_waiter)
        _wake(self._media_waiter)

    async def get_audio(self) -> AudioChunk:
        """The next audio payload (waits forever on a camera without audio)."""
        audio = self._need_audio()
        while not audio:
            self._audio_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._audio_waiter
            finally:
                self._audio_waiter = None
        chunk = audio.popleft()
        self._audio_bytes -= len(chunk.data) + UNIT_OVERHEAD
        return chunk

    def _need_audio(self) -> deque[AudioChunk]:
        if self._audio is None:
            raise RuntimeError("this consumer did not ask for audio")
        return self._audio

    def _offer(self, unit: AccessUnit) -> None:
        if self._waiting_for_keyframe and not unit.keyframe:
            self.skipped += 1
            return
        self._waiting_for_keyframe = False
        cost = len(unit.data) + UNIT_OVERHEAD
        if len(self._units) >= CONSUMER_QUEUE or self._queued_bytes + cost > self.max_bytes:
            # Behind by a whole queue: drop what is queued and resume at the next keyframe,
            # as dropping single frames would leave the decoder with broken references.
            self.skipped += len(self._units)
            self._units.clear()
            self._queued_bytes = 0
            if not unit.keyframe or cost > self.max_bytes:
                self._waiting_for_keyframe = True
                self.skipped += 1
                return
        self._units.append(unit)
        self._queued_bytes += cost
        _wake(self._video_waiter)
        _wake(self._media_waiter)

    @property
    def queued_bytes(self) -> int:
        """Bytes of video waiting to be read."""
        return self._queued_bytes

    async def get(self) -> AccessUnit:
        """The next access unit."""
        while not self._units:
            self._video_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._video_waiter
            finally:
                self._video_waiter = None
        unit = self._units.popleft()
        self._queued_bytes -= len(unit.data) + UNIT_OVERHEAD
        return unit

    async def get_media(self) -> tuple[list[AccessUnit], list[AudioChunk]]:
        """Every access unit and audio payload waiting, at least one of either: a bulk reader
        (the recorder) wakes once per camera read, as the hub publishes all of a read at once,
        instead of once per frame and once per audio packet."""
        audio = self._audio
        while not self._units and not audio:
            self._media_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._media_waiter
            finally:
                self._media_waiter = None
        units = list(self._units)
        self._units.clear()
        self._queued_bytes = 0
        chunks: list[AudioChunk] = []
        if audio:
            chunks = list(audio)
            audio.clear()
            self._audio_bytes = 0
        return units, chunks

    def __aiter__(self) -> AsyncIterator[AccessUnit]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[AccessUnit]:
        while True:
            yield await self.get()

    def close(self) -> None:
        """Stop reading (the upstream session closes after the last consumer, with a linger)."""
        self._stream._remove(self)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
