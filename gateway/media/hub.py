"""The stream hub: ONE upstream RTSP session per camera stream, fanned out to every consumer
(live viewers now; the recorder and snapshots later). A consumer that joins gets the current
GOP first, so it can start decoding at once instead of waiting for the camera's next keyframe.

Every buffer a camera can fill is bounded in bytes: the GOP cache (`max_bytes` per stream), each
consumer's queue, and the RTSP client's packet queue. A camera that overruns its budget loses
its own cache until its next keyframe, with one warning; other cameras are not affected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from doorstep.gateway.media.consumer import (
    MAX_GOP_FRAMES,
    UNIT_OVERHEAD,
    AudioChunk,
    Consumer,
)
from doorstep.gateway.media.upstream import (
    REAL_CLOCK,
    RTSP_TIMEOUT_S,
    HubClock,
    StreamTarget,
    unreachable_reason,
)
from doorstep.protocols.h264 import AccessUnit, H264Depacketizer, parameter_sets
from doorstep.protocols.rtp import RtpError, parse_rtp
from doorstep.protocols.rtsp_client import (
    COALESCE_S,
    PACKET_QUEUE_BYTES,
    RtspClient,
    RtspError,
    RtspStatusError,
)
from doorstep.protocols.sdp import SdpMedia

_log = logging.getLogger(__name__)

STREAM_BUDGET_BYTES = 32 * 1024 * 1024
"""Default byte budget of one stream's GOP cache; a consumer's queue gets a quarter more, so
a whole cached GOP primes a viewer with room to spare."""
LINGER_S = 10.0  # keep the upstream session this long after the last consumer leaves
RETRY_MIN_S = 1.0
RETRY_MAX_S = 10.0
"""The longest wait between two attempts (times a 0.5–1.0 jitter): a recorder is back within
about 10 s of its camera's stream, whatever the outage lasted (Frigate's watchdog: 120 s)."""
HEALTHY_SESSION_S = 30.0
"""A session must deliver frames this long before its camera's backoff (and outage) is over:
a camera that accepts PLAY and drops keeps backing off, and is logged once."""
VIDEO_TIMEOUT_S = 10.0  # a session that sends packets but no video frame is dead
BULK_COALESCE_S = 0.5
"""How long a stream read only by recorders lets media gather between reads (a viewer's:
`rtsp_connection.COALESCE_S`, 30 ms; the connection reads sooner while the socket's buffer is
small for the pace). What a read costs is mostly fixed (the wake-ups of the connection, this
stream and its recorders): on the event loop, for a 1080p30 4 Mbit/s stream with its G.711,
0.72 % of a core at 0.1 s, 0.50 % at 0.2 s, 0.39 % at 0.4 s; per camera recording 8 cameras,
0.8-0.9 % in all at 0.25 s, 0.71-0.75 % at 0.5 s. A recorder dates each frame back by its RTP
timestamp within the read, and a live viewer's coming quickens the pace at once."""
VIDEO_CHANNEL = 0
AUDIO_CHANNEL = 2
AUDIO_CODECS = ("PCMU", "PCMA")  # what viewers can be given; others are left unrequested


class CameraStream:
    """One camera stream: its upstream session, its GOP cache and its consumers."""

    def __init__(
        self,
        name: str,
        target: Callable[[], StreamTarget],
        max_bytes: int = STREAM_BUDGET_BYTES,
        packet_queue_bytes: int = PACKET_QUEUE_BYTES,
        clock: HubClock = REAL_CLOCK,
    ) -> None:
        self.name = name
        self._target = target
        self._clock = clock
        self.max_bytes = max_bytes
        """Byte budget of the GOP cache (consumers get a quarter more each)."""
        self.packet_queue_bytes = packet_queue_bytes
        self._consumers: set[Consumer] = set()
        self._client: RtspClient | None = None
        self._gop: list[AccessUnit] = []
        self._gop_bytes = 0
        self._task: asyncio.Task[None] | None = None
        self._linger: asyncio.Task[None] | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self.sessions_opened = 0
        self.audio_encoding: str | None = None
        self.frames = 0
        self.failures = 0
        """Failed attempts in the current outage (0: the stream is healthy or never failed)."""
        self.last_error: str | None = None
        """Why the stream last failed (kept until frames flow again), for the camera's state."""
        self.unreachable = False
        """The last attempt could not even connect (the camera's stream port is dead or
        unreachable); cleared with `last_error` when frames flow."""
        self._connected = False
        self.over_budget = 0
        """How many times the camera overran its byte budget (the cache was dropped)."""
        self._budget_warned = False
        self._delay = RETRY_MIN_S
        self._poked = asyncio.Event()

    def hurry(self) -> None:
        """A consumer needs the frames waiting upstream now, not at the next slow read."""
        if self._client is not None:
            self._client.read_soon()

    def retry_now(self) -> None:
        """The camera is back (it answered its driver again): end the wait before the next
        attempt, and start the backoff over."""
        self._delay = RETRY_MIN_S
        self._poked.set()

    async def _wait_to_retry(self) -> None:
        """The backoff wait, cut short by `retry_now`."""
        self._poked.clear()
        waiting = asyncio.ensure_future(self._clock.sleep(self._delay * self._clock.jitter()))
        poked = asyncio.ensure_future(self._poked.wait())
        try:
            await asyncio.wait({waiting, poked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            poked.cancel()
        if not self._poked.is_set():
            self._delay = min(RETRY_MAX_S, self._delay * 2)

    @property
    def cached_bytes(self) -> int:
        """Bytes held by the GOP cache."""
        return self._gop_bytes

    def consume(self, audio: bool = False, *, bulk: bool = False) -> Consumer:
        """A new consumer, primed with the current GOP; starts the upstream session if needed.

        With `audio`, the consumer also gets the camera's G.711 audio (`get_audio`); `bulk`:
        see `Consumer.bulk`.
        """
        consumer = Consumer(self, audio, bulk)
        for unit in self._gop:
            consumer._offer(unit)
        self._consumers.add(consumer)
        self._pace()
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"stream:{self.name}")
        return consumer

    def _remove(self, consumer: Consumer) -> None:
        self._consumers.discard(consumer)
        self._pace()
        if not self._consumers and self._task is not None and self._linger is None:
            self._linger = asyncio.create_task(self._linger_then_idle(), name=f"linger:{self.name}")

    async def _linger_then_idle(self) -> None:
        await self._clock.sleep(LINGER_S)
        self._linger = None
        if not self._consumers and self._task is not None:
            task, self._task = self._task, None
            task.cancel()  # it finishes tearing down on its own; a new viewer starts afresh
            self._ending.add(task)
            task.add_done_callback(self._ending.discard)
            self._clear_gop()

    def _pace(self) -> None:
        """Read the camera less often while only bulk consumers (recorders) read the stream."""
        if self._client is not None:
            live = any(not c.bulk for c in self._consumers)
            self._client.coalesce_s = COALESCE_S if live or not self._consumers else BULK_COALESCE_S

    def _clear_gop(self) -> None:
        self._gop, self._gop_bytes = [], 0

    async def _run(self) -> None:
        while True:
            self._connected = False
            try:
                await self._session()
            except (RtspError, OSError, TimeoutError) as exc:
                if self._connected:
                    self._failed(str(exc))
                else:
                    self._failed(unreachable_reason(self._target().url, exc), unreachable=True)
            except Exception as exc:  # a camera's malformed answer must not end the stream
                self._failed(f"failed: {type(exc).__name__}")
            self._clear_gop()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Cancelled while the session was failing: on 3.11 `wait_for` can swallow a
                # cancellation that lands as its inner call finishes, and the stream would then
                # retry for ever after the hub let it go.
                raise asyncio.CancelledError
            for consumer in self._consumers:
                consumer._waiting_for_keyframe = True  # the next session starts a new GOP
            await self._wait_to_retry()

    def _failed(self, reason: str, unreachable: bool = False) -> None:
        """One warning per outage; the retries that follow are logged at DEBUG."""
        self.last_error = reason
        self.unreachable = unreachable
        self.failures += 1
        if self.failures == 1:
            _log.warning(
                "stream %s unavailable: %s (retrying with backoff; logged again once it is back)",
                self.name,
                reason,
            )
        else:
            _log.debug("stream %s still down (attempt %d): %s", self.name, self.failures, reason)

    def _healthy(self) -> None:
        """The session has delivered frames for HEALTHY_SESSION_S: the outage is over."""
        if self.failures:
            _log.info("stream %s is back after %d failed attempts", self.name, self.failures)
        self.failures = 0
        self._delay = RETRY_MIN_S

    async def _session(self) -> None:
        target = self._target()
        client = RtspClient(
            target.url,
            target.username,
            target.password,
            RTSP_TIMEOUT_S,
            allow_basic=target.allow_basic,
            max_queue_bytes=self.packet_queue_bytes,
        )
        async with client:
            self._connected = True
            self._client = client
            self._pace()
            try:
                await self._play(client)
            finally:
                self._client = None

    async def _play(self, client: RtspClient) -> None:
        """DESCRIBE, SETUP and PLAY, then publish what the camera sends until it fails."""
        media = await client.describe()
        video = next((m for m in media if m.kind == "video" and m.encoding == "H264"), None)
        if video is None:
            raise RtspError("the stream has no H.264 video")
        await client.setup(video, VIDEO_CHANNEL)
        audio = await self._setup_audio(client, media)
        self.audio_encoding = audio.encoding if audio is not None else None
        # The video is depacketized as the connection reads it; frames come out whole.
        client.receive_video(VIDEO_CHANNEL, H264Depacketizer(parameter_sets(video)))
        await client.play()
        self.sessions_opened += 1
        first_frame: float | None = None
        last_frame = self._clock.now()
        healthy = False
        while True:
            # All that came in at once (a read holds a few frames): one wake-up each.
            units, packets = await client.media(wait_s=VIDEO_TIMEOUT_S)
            now = self._clock.now()
            if now - last_frame > VIDEO_TIMEOUT_S:
                raise RtspError(f"no video frame for {VIDEO_TIMEOUT_S:.0f} s")
            if units:
                last_frame = now
                if first_frame is None:
                    first_frame = now
                    self.last_error, self.unreachable = None, False
                for unit in units:
                    self._publish(unit)
            for channel, data in packets:
                if channel != AUDIO_CHANNEL or audio is None:
                    continue  # RTCP
                try:
                    packet = parse_rtp(data)
                except RtpError:
                    continue
                if packet.payload:
                    chunk = AudioChunk(
                        packet.payload, packet.timestamp, audio.encoding, audio.clock_rate
                    )
                    for consumer in list(self._consumers):
                        consumer._offer_audio(chunk)
            played = 0.0 if first_frame is None else now - first_frame
            if not healthy and played >= HEALTHY_SESSION_S:
                healthy = True
                self._healthy()

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
        cost = len(unit.data) + UNIT_OVERHEAD
        if unit.keyframe:
            self._gop, self._gop_bytes = [unit], cost
        elif self._gop and len(self._gop) < MAX_GOP_FRAMES:
            self._gop.append(unit)
            self._gop_bytes += cost
        if self._gop_bytes > self.max_bytes:
            self._over_budget()
        for consumer in list(self._consumers):
            consumer._offer(unit)

    def _over_budget(self) -> None:
        """Drop this camera's cache until its next keyframe; warn once per stream."""
        held = self._gop_bytes
        self._clear_gop()
        self.over_budget += 1
        log = _log.debug if self._budget_warned else _log.warning
        self._budget_warned = True
        log(
            "stream %s sent %d MiB since its last keyframe, over its %d MiB budget: its cache "
            "is dropped until the next keyframe (logged once)",
            self.name,
            held // (1024 * 1024),
            self.max_bytes // (1024 * 1024),
        )

    async def close(self) -> None:
        """Stop the upstream session now (its teardown waits at most 3 s)."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._task is not None:
            self._task.cancel()
            self._ending.add(self._task)
            self._task = None
        if self._ending:
            await asyncio.wait(self._ending, timeout=3)


class StreamHub:
    """Every camera stream the gateway reads, by name (e.g. 'front-door/main')."""

    def __init__(
        self,
        max_stream_bytes: int = STREAM_BUDGET_BYTES,
        packet_queue_bytes: int = PACKET_QUEUE_BYTES,
        clock: HubClock = REAL_CLOCK,
    ) -> None:
        self._streams: dict[str, CameraStream] = {}
        self._clock = clock
        self.max_stream_bytes = max_stream_bytes
        """Byte budget of each stream's GOP cache (its consumers get a quarter more each)."""
        self.packet_queue_bytes = packet_queue_bytes

    def stream(self, name: str, target: Callable[[], StreamTarget]) -> CameraStream:
        """The stream of that name, created on first use."""
        if name not in self._streams:
            self._streams[name] = CameraStream(
                name, target, self.max_stream_bytes, self.packet_queue_bytes, self._clock
            )
        return self._streams[name]

    def get(self, name: str) -> CameraStream | None:
        """The stream of that name if it was ever opened (for its state: `last_error`)."""
        return self._streams.get(name)

    async def close(self) -> None:
        """Stop every upstream session, side by side: a camera slow to answer TEARDOWN holds up
        its own stream only, and shutdown stays within its budget however many there are."""
        await asyncio.gather(*(stream.close() for stream in list(self._streams.values())))
