"""WebRTC tracks fed by the stream hub: the camera's H.264 passed through, and its audio."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame

from doorstep.gateway.media.consumer import Consumer

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK)
_WRAP = 1 << 32
G711_RATE = 8000  # the only rate WebRTC's PCMU/PCMA take
MAX_STEP_S = 10.0
"""A camera timestamp step longer than this, or backwards, is a jump of the camera's clock."""
CATCH_UP_S = 0.010
"""Pace of frames sent while a viewer is behind live (the cached GOP that primes it, or what
queued while its connection was set up).

Sent at once with their own timestamps, such frames reach the browser as one burst of old
frames and its jitter buffer drops them as too late. Sent this far apart and stamped this far
apart, they look to the browser like a fast, punctual stream: it decodes every one, and the
viewer reaches live after about GOP length times this."""


class Timeline:
    """A camera's RTP timestamps as steps of a viewer's steady clock.

    A step is the camera's own time between two frames, wrap-safe (32-bit timestamps wrap about
    every 13 hours at 90 kHz). When the camera's clock jumps instead (it restarted, or its stream
    was reopened with a new random base), the step is the wall-clock time between the frames,
    so the browser sees neither time running backwards nor a gap of hours.
    """

    def __init__(self, clock_rate: int, max_step_s: float = MAX_STEP_S) -> None:
        self._rate = clock_rate
        self._max = round(max_step_s * clock_rate)
        self._last: int | None = None
        self._last_at = 0.0
        self.jumps = 0

    def step(self, timestamp: int, now: float | None = None) -> int:
        """Ticks since the previous frame (0 for the first; at least 1 after it)."""
        now = time.monotonic() if now is None else now
        last, self._last = self._last, timestamp
        elapsed, self._last_at = now - self._last_at, now
        if last is None:
            return 0
        step = (timestamp - last + _WRAP // 2) % _WRAP - _WRAP // 2  # signed, across a wrap
        if step > self._max or step < 0:
            self.jumps += 1
            step = round(elapsed * self._rate)
        return max(1, step)


class _Paused:
    """A track's hub consumer, or none yet: a prepared call's tracks wait here, sending nothing,
    until the call is answered and they are given one."""

    def __init__(self, consumer: Consumer | None) -> None:
        self.consumer = consumer
        self.resumed = asyncio.Event()
        if consumer is not None:
            self.resumed.set()

    async def wait(self, track: MediaStreamTrack) -> Consumer:
        if self.consumer is None:
            await self.resumed.wait()
        if self.consumer is None or track.readyState != "live":  # stopped while paused
            raise MediaStreamError
        return self.consumer

    def resume(self, consumer: Consumer) -> None:
        if self.consumer is not None:
            raise RuntimeError("the track is reading a consumer already")
        self.consumer = consumer
        self.resumed.set()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
        self.resumed.set()  # a paused recv() ends too


class PassthroughVideoTrack(MediaStreamTrack):
    """Reads a hub consumer; aiortc packetises the packets without decoding (`encoder.pack`).

    Made without a consumer (a prepared call), it sends nothing until `resume()`, and then
    starts at a keyframe."""

    kind = "video"

    def __init__(self, consumer: Consumer | None) -> None:
        super().__init__()
        self._feed = _Paused(consumer)
        self._need_keyframe = False
        self.timeline = Timeline(VIDEO_CLOCK)
        self._pts = 0
        self.frames = 0
        self.caught_up_frames = 0
        self.first_keyframe: bool | None = None
        """Whether the first frame sent was a keyframe (None: nothing sent yet)."""

    @property
    def paused(self) -> bool:
        """Waiting for `resume()`: nothing is sent."""
        return self._feed.consumer is None

    def resume(self, consumer: Consumer) -> None:
        """Start sending from `consumer` (primed by the hub with its cached GOP): the first frame
        sent is its first keyframe."""
        self._need_keyframe = True
        self._feed.resume(consumer)

    async def recv(self) -> av.Packet[Any]:  # encoded passthrough: aiortc packs it as is
        if self.readyState != "live":
            raise MediaStreamError
        consumer = await self._feed.wait(self)
        catching_up = self.frames > 0 and consumer.behind > 0
        if catching_up:
            await asyncio.sleep(CATCH_UP_S)
        unit = await consumer.get()
        while self._need_keyframe and not unit.keyframe:  # a decoder starts at a keyframe
            unit = await consumer.get()
        self._need_keyframe = False
        step = self.timeline.step(unit.timestamp)
        if catching_up:
            # Behind live: stamped one catch-up step after the previous frame; live frames then
            # continue from here at the camera's own pace.
            step = round(CATCH_UP_S * VIDEO_CLOCK)
            self.caught_up_frames += 1
        self._pts += step
        packet = av.Packet(unit.data)
        packet.pts = packet.dts = self._pts
        packet.time_base = VIDEO_TIME_BASE
        if self.first_keyframe is None:
            self.first_keyframe = unit.keyframe
        self.frames += 1
        return packet

    def stop(self) -> None:
        """Stop the track and release the hub consumer."""
        super().stop()
        self._feed.stop()


class CameraAudioTrack(MediaStreamTrack):
    """The camera's G.711 audio for the browser: passed through when the browser took the
    camera's codec, else decoded to PCM for aiortc to encode."""

    kind = "audio"

    def __init__(self, consumer: Consumer | None) -> None:
        super().__init__()
        self._feed = _Paused(consumer)
        self._decoders: dict[str, Any] = {}
        self._pending: list[AudioFrame] = []
        self._timeline: Timeline | None = None
        self._pts = 0
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

    def resume(self, consumer: Consumer) -> None:
        """Start sending the sound of `consumer` (a prepared call was answered)."""
        self._feed.resume(consumer)

    async def recv(self) -> AudioFrame | av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        consumer = await self._feed.wait(self)
        while not self._pending:
            chunk = await consumer.get_audio()
            if self._timeline is None:
                self._timeline = Timeline(chunk.clock_rate)
            self._pts += self._timeline.step(chunk.timestamp)
            packet = av.Packet(chunk.data)
            packet.pts = self._pts
            packet.time_base = Fraction(1, chunk.clock_rate)
            if chunk.encoding == self.passthrough and chunk.clock_rate == G711_RATE:
                self.chunks += 1
                self.passed += 1
                return packet
            decoder = self._decoder(chunk.encoding, chunk.clock_rate)
            self._pending = list(decoder.decode(packet))
        self.chunks += 1
        return self._pending.pop(0)

    def stop(self) -> None:
        """Stop the track (the video track, which shares the consumer, releases it)."""
        super().stop()
        self._feed.resumed.set()
