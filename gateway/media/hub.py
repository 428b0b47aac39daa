"""The stream hub: ONE upstream RTSP session per camera stream, fanned out to every consumer
(live viewers now; the recorder and snapshots later). A consumer that joins gets the current
GOP first, so it can start decoding at once instead of waiting for the camera's next keyframe.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ..rtp import RtpError, parse_rtp
from .h264 import AccessUnit, H264Depacketizer, parameter_sets
from .rtsp_client import RtspClient, RtspError

_log = logging.getLogger(__name__)

CONSUMER_QUEUE = 120  # ~4-8 s of video; past it a consumer skips to the next keyframe
MAX_GOP_FRAMES = 300  # cap the cache for cameras with very long GOPs
LINGER_S = 10.0  # keep the upstream session this long after the last consumer leaves
RETRY_MAX_S = 30.0
VIDEO_CHANNEL = 0


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """What to open: an RTSP URL (no credentials in it) and the credentials."""

    url: str
    username: str | None
    password: str | None


class Consumer:
    """One reader of a camera stream; iterate it for access units."""

    def __init__(self, stream: CameraStream) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[AccessUnit] = asyncio.Queue(CONSUMER_QUEUE)
        self._waiting_for_keyframe = False
        self.skipped = 0

    def _offer(self, unit: AccessUnit) -> None:
        if self._waiting_for_keyframe and not unit.keyframe:
            self.skipped += 1
            return
        self._waiting_for_keyframe = False
        if self._queue.full():
            # Behind by a whole queue: drop what is queued and resume at the next keyframe,
            # as dropping single frames would leave the decoder with broken references.
            while not self._queue.empty():
                self._queue.get_nowait()
                self.skipped += 1
            if not unit.keyframe:
                self._waiting_for_keyframe = True
                self.skipped += 1
                return
        self._queue.put_nowait(unit)

    async def get(self) -> AccessUnit:
        """The next access unit."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[AccessUnit]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[AccessUnit]:
        while True:
            yield await self.get()

    def close(self) -> None:
        """Stop reading (the upstream session closes after the last consumer, with a linger)."""
        self._stream._remove(self)


class CameraStream:
    """One camera stream: its upstream session, its GOP cache and its consumers."""

    def __init__(self, name: str, target: Callable[[], StreamTarget]) -> None:
        self.name = name
        self._target = target
        self._consumers: set[Consumer] = set()
        self._gop: list[AccessUnit] = []
        self._task: asyncio.Task[None] | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self.sessions_opened = 0
        self.frames = 0

    def consume(self) -> Consumer:
        """A new consumer, primed with the current GOP; starts the upstream session if needed."""
        consumer = Consumer(self)
        for unit in self._gop:
            consumer._offer(unit)
        self._consumers.add(consumer)
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"stream:{self.name}")
        return consumer

    def _remove(self, consumer: Consumer) -> None:
        self._consumers.discard(consumer)
        if not self._consumers and self._task is not None and self._linger is None:
            self._linger = asyncio.get_running_loop().call_later(LINGER_S, self._idle)

    def _idle(self) -> None:
        self._linger = None
        if not self._consumers and self._task is not None:
            task, self._task = self._task, None
            task.cancel()  # it finishes tearing down on its own; a new viewer starts afresh
            self._ending.add(task)
            task.add_done_callback(self._ending.discard)
            self._gop.clear()

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._session()
                delay = 1.0
            except (RtspError, OSError, TimeoutError) as exc:
                _log.warning("stream %s lost: %s", self.name, exc)
            self._gop.clear()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311  # jitter
            delay = min(RETRY_MAX_S, delay * 2)

    async def _session(self) -> None:
        target = self._target()
        async with RtspClient(target.url, target.username, target.password) as client:
            media = await client.describe()
            video = next((m for m in media if m.kind == "video" and m.encoding == "H264"), None)
            if video is None:
                raise RtspError("the stream has no H.264 video")
            await client.setup(video, VIDEO_CHANNEL)
            await client.play()
            self.sessions_opened += 1
            depacketizer = H264Depacketizer(parameter_sets(video))
            while True:
                channel, data = await client.packet(wait_s=10)
                if channel != VIDEO_CHANNEL:
                    continue
                try:
                    packet = parse_rtp(data)
                except RtpError:
                    continue
                for unit in depacketizer.push(packet.payload, packet.timestamp, packet.marker):
                    self._publish(unit)

    def _publish(self, unit: AccessUnit) -> None:
        self.frames += 1
        if unit.keyframe:
            self._gop = [unit]
        elif self._gop and len(self._gop) < MAX_GOP_FRAMES:
            self._gop.append(unit)
        for consumer in list(self._consumers):
            consumer._offer(unit)

    async def close(self) -> None:
        """Stop the upstream session now."""
        if self._linger is not None:
            self._linger.cancel()
        if self._task is not None:
            self._task.cancel()
            self._ending.add(self._task)
            self._task = None
        if self._ending:
            await asyncio.wait(self._ending, timeout=3)


class StreamHub:
    """Every camera stream the gateway reads, by name (e.g. 'front-door/main')."""

    def __init__(self) -> None:
        self._streams: dict[str, CameraStream] = {}

    def stream(self, name: str, target: Callable[[], StreamTarget]) -> CameraStream:
        """The stream of that name, created on first use."""
        if name not in self._streams:
            self._streams[name] = CameraStream(name, target)
        return self._streams[name]

    async def close(self) -> None:
        """Stop every upstream session."""
        for stream in self._streams.values():
            await stream.close()
