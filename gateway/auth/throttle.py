"""Sign-in throttling: per account and per address, by minute and by hour, never permanent."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

PER_MINUTE = 5
PER_HOUR = 20
MAX_KEYS = 100_000  # bounded memory whatever a scanner tries


class LoginThrottle:
    """Counts recent failures; answers how long a key must wait. Windows expire, so nobody (the
    owner included) is ever locked out for good."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and now - failures[0] >= 3600:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds to wait before another attempt (0: go ahead)."""
        now = self._clock()
        wait = 0.0
        for key in keys:
            failures = self._recent(key, now)
            last_minute = [t for t in failures if now - t < 60]
            if len(last_minute) >= PER_MINUTE:
                wait = max(wait, 60 - (now - last_minute[-PER_MINUTE]))
            if len(failures) >= PER_HOUR:
                wait = max(wait, 3600 - (now - failures[-PER_HOUR]))
        return int(wait) + (1 if wait > int(wait) else 0)

    def failed(self, keys: Iterable[str]) -> None:
        """Record a failed attempt against every key."""
        now = self._clock()
        if len(self._failures) >= MAX_KEYS:
            oldest = min(self._failures, key=lambda k: self._failures[k][-1])
            del self._failures[oldest]
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=PER_HOUR * 2)).append(now)

    def succeeded(self, account_key: str) -> None:
        """A correct sign-in clears the account's count (not the address's)."""
        self._failures.pop(account_key, None)
