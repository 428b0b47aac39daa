"""Talk: the browser's microphone, decoded by aiortc, re-encoded for the camera's speaker.

A pump reads the viewer's microphone track for the whole call (aiortc queues frames without
bound, so they must be drained) and forwards them only while the resident holds Talk; the
backchannel itself is opened on press and closed on release (push-to-talk).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame

from doorstep.gateway.media.talk_codec import TalkEncoder
from doorstep.sdk import TalkSink

_log = logging.getLogger(__name__)

LATENCY_SAMPLES = 3000  # one minute of 20 ms frames


@dataclass
class ActiveTalk:
    """An open backchannel and the encoder feeding it."""

    sink: TalkSink
    encoder: TalkEncoder
    started: float = field(default_factory=time.monotonic)
    frames: int = 0
    payloads: int = 0
    error: str | None = None


class MicPump:
    """Drains a viewer's microphone track and forwards it to the speaker while talking."""

    def __init__(
        self,
        track: MediaStreamTrack,
        on_failure: Callable[[ActiveTalk], Awaitable[None]] | None = None,
    ) -> None:
        self._track = track
        self._on_failure = on_failure
        """Told when the camera's side of a talk failed and the pump closed it."""
        self.failure: str | None = None
        """Why the last talk was ended by the camera, until the next press."""
        self.talk: ActiveTalk | None = None
        self.latencies_ms: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        """Gateway-added talk latency per frame: frame out of aiortc → RTP written."""
        self.frames_in = 0
        self._task = asyncio.create_task(self._run(), name="talk-pump")

    async def _run(self) -> None:
        while True:
            try:
                frame = await self._track.recv()
            except MediaStreamError:
                return
            self.frames_in += 1
            talk = self.talk
            if talk is None or not isinstance(frame, AudioFrame):
                continue
            received = time.perf_counter()
            try:
                for payload, _samples in talk.encoder.encode(frame):
                    await talk.sink.send(payload)
                    talk.payloads += 1
            except Exception as exc:  # the camera dropped it; say so, keep the call
                talk.error = f"{type(exc).__name__}: {exc}"
                _log.warning("talk to the camera failed: %s", talk.error)
                if await self.release() is talk:
                    self.failure = talk.error
                    if self._on_failure is not None:
                        await self._on_failure(talk)
                continue
            talk.frames += 1
            self.latencies_ms.append((time.perf_counter() - received) * 1000)

    async def press(self, sink: TalkSink) -> ActiveTalk:
        """Start forwarding to an opened sink (closing any previous one)."""
        await self.release()
        self.failure = None
        fmtp: Any = getattr(sink, "fmtp", None)
        try:
            encoder = TalkEncoder(sink.codec, sink.sample_rate, fmtp)
        except ValueError:
            await sink.close()
            raise
        self.talk = ActiveTalk(sink, encoder)
        return self.talk

    async def release(self) -> ActiveTalk | None:
        """Stop forwarding and close the backchannel (idempotent)."""
        talk, self.talk = self.talk, None
        if talk is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(talk.sink.close(), 3)
        return talk

    async def close(self) -> None:
        """End the pump with the call."""
        await self.release()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
