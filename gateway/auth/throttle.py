"""Sign-in throttling: per account and per address, by minute and by hour, never permanent.

An attempt is *reserved* before the password hash is checked, and counts as a failure until it
succeeds: checking the limit first and counting failures after the (slow) hash let a burst of
500 parallel guesses through, all evaluated. Reserving happens without an await in between, so a
concurrent burst on one event loop can never overrun the limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PER_MINUTE = 5
PER_HOUR = 20
MAX_KEYS = 100_000  # bounded memory whatever a scanner tries


class Throttled(Exception):
    """Too many recent attempts for one of the keys; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"throttled for {retry_after} s")
        self.retry_after = retry_after


@dataclass(slots=True)
class Attempt:
    """A reserved attempt: counted as a failure against each key unless it succeeds."""

    keys: tuple[str, ...]
    at: float


class LoginThrottle:
    """Counts recent attempts per key and answers how long a key must wait. Windows expire, so
    nobody (the owner included) is ever locked out for good."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        per_minute: int = PER_MINUTE,
        per_hour: int = PER_HOUR,
    ) -> None:
        self._clock = clock
        self._per_minute = per_minute
        self._per_hour = per_hour
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
            if len(last_minute) >= self._per_minute:
                wait = max(wait, 60 - (now - last_minute[-self._per_minute]))
            if len(failures) >= self._per_hour:
                wait = max(wait, 3600 - (now - failures[-self._per_hour]))
        return int(wait) + (1 if wait > int(wait) else 0)

    def reserve(self, keys: Iterable[str]) -> Attempt:
        """Take an attempt for every key, or raise `Throttled` (atomic: no await inside)."""
        keys = tuple(keys)
        wait = self.retry_after(keys)
        if wait:
            raise Throttled(wait)
        attempt = Attempt(keys, self._clock())
        self._record(keys, attempt.at)
        return attempt

    def _record(self, keys: Iterable[str], at: float) -> None:
        for key in keys:
            if key not in self._failures and len(self._failures) >= MAX_KEYS:
                oldest = min(self._failures, key=lambda k: self._failures[k][-1])
                del self._failures[oldest]
            self._failures.setdefault(key, deque(maxlen=self._per_hour * 2)).append(at)

    def failed(self, keys: Iterable[str]) -> None:
        """Record a failed attempt against every key (for callers that do not reserve)."""
        self._record(keys, self._clock())

    def refund(self, attempt: Attempt, keys: Iterable[str] | None = None) -> None:
        """Give back a reserved attempt (it succeeded) on `keys` (default: all of its keys)."""
        for key in attempt.keys if keys is None else keys:
            failures = self._failures.get(key)
            if failures is None:
                continue
            try:
                failures.remove(attempt.at)
            except ValueError:
                continue
            if not failures:
                del self._failures[key]

    def clear(self, key: str) -> None:
        """Forget a key's count (a correct sign-in clears the account's)."""
        self._failures.pop(key, None)

    def succeeded(self, account_key: str) -> None:
        """A correct sign-in clears the account's count (not the address's)."""
        self.clear(account_key)
