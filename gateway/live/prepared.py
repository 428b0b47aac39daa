"""A prepared call's hold on its camera: the stream open and its GOP cache warm, nothing sent.

While a ring's banner shows, the page may prepare the call (signalling and ICE done, media
paused). The hold reads the camera's stream and throws every frame away, so nothing queues for
the paused call, the upstream session stays open, and the hub keeps the current GOP. Answering
takes a new consumer, which the hub primes with that GOP: the browser gets the latest keyframe
at once instead of waiting for a cold RTSP session and the camera's next keyframe.
"""

from __future__ import annotations

import asyncio

from doorstep.gateway.media.consumer import Consumer
from doorstep.gateway.media.hub import CameraStream


class WarmHold:
    """Keeps one camera stream open for a prepared call, reading and discarding its frames."""

    def __init__(self, stream: CameraStream, audio: bool) -> None:
        self._stream = stream
        self._audio = audio
        self._consumer = stream.consume()  # video only: the audio is not even queued
        self.discarded = 0
        """Frames the stream delivered while the call was prepared (none of them were sent)."""
        self._task: asyncio.Task[None] | None = asyncio.create_task(
            self._drain(), name=f"warm:{stream.name}"
        )

    @property
    def audio_encoding(self) -> str | None:
        """The camera's audio codec as last seen (for the answer's codec order)."""
        return self._stream.audio_encoding

    async def _drain(self) -> None:
        async for _ in self._consumer:
            self.discarded += 1

    def answer(self) -> Consumer:
        """The consumer the answered call's tracks read, primed from the cached keyframe on;
        the hold ends (the new consumer keeps the stream open, with no linger in between)."""
        consumer = self._stream.consume(audio=self._audio)
        self.close()
        return consumer

    def close(self) -> None:
        """Let go of the stream (idempotent); the hub lingers, then closes it if nobody reads."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        self._consumer.close()
