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
from .rtsp_client import RtspClient, RtspError, RtspStatusError
from .sdp import SdpMedia

_log = logging.getLogger(__name__)

MAX_GOP_FRAMES = 300  # cap the cache for cameras with very long GOPs
CONSUMER_QUEUE = MAX_GOP_FRAMES + 60  # a whole cached GOP primes a viewer, with room to spare;
# past it a consumer skips to the next keyframe
LINGER_S = 10.0  # keep the upstream session this long after the last consumer leaves
RETRY_MAX_S = 30.0
AUDIO_QUEUE = 50  # one second of 20 ms packets; older ones are dropped for a slow reader
VIDEO_CHANNEL = 0
AUDIO_CHANNEL = 2
AUDIO_CODECS = ("PCMU", "PCMA")  # what viewers can be given; others are left unrequested


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """What to open: an RTSP URL (no credentials in it) and the credentials."""

    url: str
    username: str | None
    password: str | None


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """One RTP payload of the camera's audio, with its codec and RTP timestamp."""

    data: bytes
    timestamp: int
    encoding: str
    clock_rate: int


class Consumer:
    """One reader of a camera stream; iterate it for access units."""

    def __init__(self, stream: CameraStream, audio: bool = False) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[AccessUnit] = asyncio.Queue(CONSUMER_QUEUE)
        self._audio: asyncio.Queue[AudioChunk] | None = (
            asyncio.Queue(AUDIO_QUEUE) if audio else None
        )
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
        if self._audio.full():
            self._audio.get_nowait()
        self._audio.put_nowait(chunk)

    async def get_audio(self) -> AudioChunk:
        """The next audio payload (waits forever on a camera without audio)."""
        if self._audio is None:
            raise RuntimeError("this consumer did not ask for audio")
        return await self._audio.get()

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
        self.audio_encoding: str | None = None
        self.frames = 0

    def consume(self, audio: bool = False) -> Consumer:
        """A new consumer, primed with the current GOP; starts the upstream session if needed.

        With `audio`, the consumer also gets the camera's G.711 audio (`get_audio`).
        """
        consumer = Consumer(self, audio)
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
            opened = self.sessions_opened
            try:
                await self._session()
            except (RtspError, OSError, TimeoutError) as exc:
                _log.warning("stream %s lost: %s", self.name, exc)
            except Exception as exc:  # a camera's malformed answer must not end the stream
                _log.warning("stream %s failed: %s", self.name, type(exc).__name__)
            if self.sessions_opened > opened:
                delay = 1.0  # it played: a new outage starts its backoff afresh
            self._gop.clear()
            for consumer in self._consumers:
                consumer._waiting_for_keyframe = True  # the next session starts a new GOP
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
            audio = await self._setup_audio(client, media)
            self.audio_encoding = audio.encoding if audio is not None else None
            await client.play()
            self.sessions_opened += 1
            depacketizer = H264Depacketizer(parameter_sets(video))
            while True:
                channel, data = await client.packet(wait_s=10)
                if channel not in (VIDEO_CHANNEL, AUDIO_CHANNEL):
                    continue  # RTCP
                try:
                    packet = parse_rtp(data)
                except RtpError:
                    continue
                if channel == VIDEO_CHANNEL:
                    for unit in depacketizer.push(packet.payload, packet.timestamp, packet.marker):
                        self._publish(unit)
                elif audio is not None and packet.payload:
                    chunk = AudioChunk(
                        packet.payload, packet.timestamp, audio.encoding, audio.clock_rate
                    )
                    for consumer in list(self._consumers):
                        consumer._offer_audio(chunk)

    async def _setup_audio(self, client: RtspClient, media: list[SdpMedia]) -> SdpMedia | None:
        """Also take the camera's audio when it is G.711; a refusal leaves video alone."""
        wanted = (
            m
            for m in media
            if m.kind == "audio" and not m.is_backchannel and m.encoding in AUDIO_CODECS
        )
        audio = next(wanted, None)
        if audio is None:
            return None
        try:
            await client.setup(audio, AUDIO_CHANNEL)
        except RtspStatusError as exc:
            _log.info("stream %s: audio refused (%s); video only", self.name, exc)
            return None
        return audio

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
