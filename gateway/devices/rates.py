"""A token bucket: the one rate limiter shared by webhooks and the per-camera event budget."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens a second up to `burst`; `take()` spends one if there is one."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst = rate, burst
        self._clock = clock
        self.tokens = burst
        self._updated = clock()

    def take(self) -> bool:
        """Spend a token; False when the bucket is empty."""
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
