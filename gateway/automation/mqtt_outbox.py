"""The MQTT publisher's bounded outbox and its reconnect backoff."""

from __future__ import annotations

import asyncio
import random
from collections import deque

from doorstep.gateway.automation.mqtt_state import Outgoing

MAX_OUTBOX_BYTES = 2 * 1024 * 1024
"""What may wait for a slow broker: the full retained picture of ~100 cameras, with room."""
MAX_OUTBOX_MESSAGES = 10_000


class Outbox:
    """FIFO of messages waiting for the broker, bounded in bytes and in count.

    Full, it drops its oldest messages and remembers that it did (`overflowed`): the publisher
    then republishes the retained picture once it has caught up, so states end up right even
    when momentary events were lost.
    """

    def __init__(
        self, max_bytes: int = MAX_OUTBOX_BYTES, max_messages: int = MAX_OUTBOX_MESSAGES
    ) -> None:
        self.max_bytes = max_bytes
        self.max_messages = max_messages
        self._queue: deque[Outgoing] = deque()
        self._ready = asyncio.Event()
        self.bytes = 0
        self.dropped = 0
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, message: Outgoing) -> bool:
        """Queue `message`; False when older ones (or it, if alone too big) were dropped."""
        if message.size > self.max_bytes:
            self.dropped += 1
            self.overflowed = True
            return False
        lost = False
        while self._queue and (
            self.bytes + message.size > self.max_bytes or len(self._queue) >= self.max_messages
        ):
            self.bytes -= self._queue.popleft().size
            self.dropped += 1
            lost = True
        self._queue.append(message)
        self.bytes += message.size
        self._ready.set()
        self.overflowed |= lost
        return not lost

    def put_all(self, messages: list[Outgoing]) -> bool:
        """Queue each of `messages`; False if anything was dropped."""
        kept = True
        for message in messages:
            kept &= self.put(message)
        return kept

    async def get(self) -> Outgoing:
        """Wait for the oldest message."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        message = self._queue.popleft()
        self.bytes -= message.size
        return message

    def clear(self) -> None:
        """Forget everything queued (a new connection starts from the full picture)."""
        self._queue.clear()
        self.bytes = 0
        self.overflowed = False


class Backoff:
    """Jittered exponential delays between connection attempts, reset after a connection."""

    def __init__(self, initial_s: float = 1.0, max_s: float = 60.0) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self._attempt = 0

    def next(self) -> float:
        """The delay before the next attempt: half to all of initial·2ⁿ, capped."""
        ceiling = min(self.max_s, self.initial_s * 2 ** min(self._attempt, 30))
        self._attempt += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311  # jitter, not a secret

    def reset(self) -> None:
        """Start again from the initial delay."""
        self._attempt = 0
