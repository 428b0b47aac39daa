"""Rate limits of the public share routes: per address and per token, atomic (no await).

A guessing address is stopped after a few refused tokens a minute, whatever it asks next;
a token, however many addresses use it, is held to a request rate a family of viewers never
reaches. Both windows slide; memory is bounded whatever a scanner sends.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_S = 60.0
REFUSALS_PER_ADDRESS = 20
"""Refused tokens from one address in a minute; then everything it asks is refused a while."""
REQUESTS_PER_ADDRESS = 1200
REQUESTS_PER_TOKEN = 3000
"""A player makes a few Range requests a second; 20 viewers of one share stay well under."""
MAX_KEYS = 50_000


class SlidingWindows:
    """At most `limit` hits per key in any `window_s` seconds; memory bounded by MAX_KEYS.
    Counting never awaits, so a concurrent burst cannot slip past the limit."""

    def __init__(
        self, limit: int, clock: Callable[[], float] = time.monotonic, window_s: float = WINDOW_S
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._window_s = window_s
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= MAX_KEYS:
                self._hits.popitem(last=False)
            hits = self._hits[key] = deque(maxlen=self.limit + 1)
        while hits and now - hits[0] >= self._window_s:
            hits.popleft()
        self._hits.move_to_end(key)
        return hits

    def full(self, key: str) -> bool:
        """Whether the key's window is full (nothing counted)."""
        return len(self._recent(key, self._clock())) >= self.limit

    def take(self, key: str) -> bool:
        """Count one hit; False (and not counted) when the window is full."""
        now = self._clock()
        hits = self._recent(key, now)
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True


class ShareLimits:
    """The public share routes' limits."""

    def __init__(
        self, refusals_per_address: int = REFUSALS_PER_ADDRESS,
        requests_per_address: int = REQUESTS_PER_ADDRESS,
        requests_per_token: int = REQUESTS_PER_TOKEN, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self._refused = SlidingWindows(refusals_per_address, clock)
        self._addresses = SlidingWindows(requests_per_address, clock)
        self._tokens = SlidingWindows(requests_per_token, clock)

    def configure(self, refusals_per_address: int, requests_per_address: int) -> None:
        """New limits per address (a test measuring thousands of refusals from one address)."""
        self._refused.limit, self._addresses.limit = refusals_per_address, requests_per_address

    def allow(self, address: str, token_key: str) -> bool:
        """Whether a request may be looked at (counted against the address and the token)."""
        if self._refused.full(address):
            return False
        return self._addresses.take(address) and self._tokens.take(token_key)

    def refused(self, address: str) -> None:
        """A token from this address was refused."""
        self._refused.take(address)
