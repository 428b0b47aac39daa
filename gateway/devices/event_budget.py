"""How many events a camera may put on the bus per second; a flood is dropped at the camera.

Issue 11, hole 3b: one camera must never cost another a single event. The bus is fair per camera,
but a camera that sends thousands of events a second would still fill every subscriber's queue
with its own news and keep the history busy writing it. Each camera gets a token bucket; doorbell
presses have a small one of their own, so a motion flood from a doorbell cannot swallow a press.
State changes do not pass through here (the supervisor publishes them directly).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from doorstep.gateway.devices.rates import TokenBucket
from doorstep.sdk import DeviceEvent, EventKind

EVENTS_PER_S = 20.0
EVENT_BURST = 50
"""A real camera sends a few events a second at most, plus its Initialized states on subscribing
(one per property: tens, not hundreds)."""
DOORBELL_PER_S = 1.0
DOORBELL_BURST = 10
"""A press is two events (on, off); ten in a row is already someone leaning on the button."""
QUIET_S = 10.0
"""A flood is over once nothing was dropped for this long; the next drop starts a new one."""


class EventBudget:
    """One camera's event rate limit, with its drop counter and one log line per flood."""

    def __init__(
        self,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        clock: Callable[[], float],
        rate: float = EVENTS_PER_S,
        burst: int = EVENT_BURST,
    ) -> None:
        self._log = log
        self._clock = clock
        self._events = TokenBucket(rate, burst, clock)
        self._doorbell = TokenBucket(DOORBELL_PER_S, DOORBELL_BURST, clock)
        self.dropped = 0
        """Events dropped since the gateway started supervising the camera."""
        self.floods = 0
        """Flood episodes seen (each logged once at WARNING)."""
        self._flood_started: float | None = None
        self._flood_dropped = 0
        self._last_drop = 0.0

    def admit(self, event: DeviceEvent) -> bool:
        """True if `event` may be published; False (counted) when the camera is over budget."""
        now = self._clock()
        if self._flood_started is not None and now - self._last_drop >= QUIET_S:
            self._flood_over(self._flood_started)
        bucket = self._doorbell if event.kind is EventKind.DOORBELL else self._events
        if bucket.take():
            return True
        self.dropped += 1
        self._last_drop = now
        self._flood_dropped += 1
        if self._flood_started is None:
            self._flood_started = now
            self.floods += 1
            self._log.warning(
                "event flood: over %g events/s (burst %d); the excess is dropped until it stops",
                self._events.rate,
                int(self._events.burst),
            )
        return False

    def _flood_over(self, started: float) -> None:
        self._log.info(
            "event flood over: %d events dropped in %.0f s",
            self._flood_dropped,
            self._last_drop - started,
        )
        self._flood_started = None
        self._flood_dropped = 0
