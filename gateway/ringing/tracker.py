"""The ring tracker: doorbell presses on the bus become rings, one per camera at a time.

A press starts a ring, or extends the camera's current one. The ring is answered by the first
household member whose live call starts on it, and ends `ring_s` after the last press if nobody
answered, when the call that answered it ends, or when its camera is removed. Each change is
published on the bus (RingStarted, RingAnswered, RingEnded) for the event stream and whoever
else listens.

A doorbell reports its button as a state that stays on for a few seconds; a press before it
goes off changes nothing, so the doorbell sends nothing. A call answered and hung up within
those seconds ends its ring while the button still reads pressed: the log says so, since a
press right then cannot ring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.events import (
    BusEvent,
    CameraEventReceived,
    CameraState,
    CameraStateChanged,
    RingAnswered,
    RingEnded,
    RingEndReason,
    RingStarted,
)
from doorstep.sdk import EventKind

_log = logging.getLogger(__name__)

RingState = Literal["ringing", "answered", "ended"]

RING_S = 60.0
"""A ring nobody answers ends this long after the doorbell was last pressed."""
MAX_RINGS = 256
"""Rings remembered at once (one per camera): a gateway with more cameras rings the oldest off."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RingClock:
    """Time as the tracker sees it: tests pass their own instead of waiting a minute."""

    now: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


REAL_CLOCK = RingClock()


@dataclass(eq=False)
class Ring:
    """One ring of one camera's doorbell."""

    id: str
    camera_id: str
    started_at: datetime
    last_press: float
    """The tracker clock's `now()` at the latest press."""
    presses: int = 1
    answered_by: str | None = None
    answered_at: datetime | None = None
    call: str | None = None
    """The live call (session id) that answered it; its end ends the ring."""
    ended: RingEndReason | None = None
    timer: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def state(self) -> RingState:
        """`ringing`, `answered` or `ended`, as the event stream names it."""
        if self.ended is not None:
            return "ended"
        return "ringing" if self.answered_by is None else "answered"


RingListener = Callable[[Ring], None]
"""Told synchronously when a ring ends (the live service closes its prepared calls)."""


class RingTracker:
    """Turns doorbell presses into rings, answers them, ends them, and says so on the bus."""

    def __init__(
        self,
        bus: EventBus,
        ring_s: float = RING_S,
        clock: RingClock = REAL_CLOCK,
        exists: Callable[[str], bool] | None = None,
    ) -> None:
        self._bus = bus
        self.ring_s = ring_s
        self.clock = clock
        """Read at each use: a test may put its own in before the first press."""
        self._exists = exists
        """Whether a camera is still configured (a stopped camera that is not was removed)."""
        self._rings: dict[str, Ring] = {}
        """Active rings by camera id."""
        self._by_id: dict[str, Ring] = {}
        self._listeners: list[RingListener] = []
        self._subscription: Subscription[BusEvent] | None = None
        self._held: dict[str, float] = {}
        """Cameras whose doorbell reports its button pressed (no release yet): since when."""

    def start(self) -> None:
        """Follow the bus's doorbell presses and camera states."""
        self._subscription = self._bus.subscribe(
            "rings", self._on_event, (CameraEventReceived, CameraStateChanged)
        )

    async def stop(self) -> None:
        """Stop following the bus and forget every ring (shutdown: nothing more is published)."""
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        timers = [r.timer for r in self._by_id.values() if r.timer is not None]
        for timer in timers:
            timer.cancel()
        for timer in timers:
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        self._rings.clear()
        self._by_id.clear()
        self._held.clear()

    def set_ring_s(self, ring_s: float) -> None:
        """A new ring time (the owner's setting), for the rings going on now too: each ends
        `ring_s` after its last press, so a shorter time may end one at once."""
        self.ring_s = ring_s
        for ring in self._rings.values():
            if ring.timer is not None:  # an answered ring lasts as long as its call
                ring.timer.cancel()
                ring.timer = asyncio.create_task(
                    self._ring_out(ring), name=f"ring:{ring.camera_id}"
                )

    def listen(self, listener: RingListener) -> None:
        """Call `listener` with each ring as it ends."""
        self._listeners.append(listener)

    async def _on_event(self, event: BusEvent) -> None:
        if isinstance(event, CameraEventReceived):
            e = event.event
            if e.kind is EventKind.DOORBELL:
                self._follow_button(event.camera_id, e.active)
                if e.active is True and not e.initial:
                    self.press(event.camera_id)
        elif isinstance(event, CameraStateChanged):
            # Reconnecting, the camera re-sends its states; until then the button is unknown.
            self._held.pop(event.camera_id, None)
            if event.state is not CameraState.STOPPED:
                return
            ring = self._rings.get(event.camera_id)
            if ring is not None and self._exists is not None and not self._exists(ring.camera_id):
                self._end(ring, RingEndReason.CAMERA_REMOVED)

    def _follow_button(self, camera_id: str, active: bool | None) -> None:
        if active is False:
            self._held.pop(camera_id, None)
        elif active is True and camera_id not in self._held:
            if len(self._held) >= MAX_RINGS:
                del self._held[min(self._held, key=self._held.__getitem__)]
            self._held[camera_id] = self.clock.now()

    def press(self, camera_id: str) -> Ring:
        """A press of the camera's doorbell: a new ring, or the current one extended."""
        ring = self._rings.get(camera_id)
        now = self.clock.now()
        if ring is not None:
            ring.last_press = now
            ring.presses += 1
            return ring
        if len(self._rings) >= MAX_RINGS:
            oldest = min(self._rings.values(), key=lambda r: r.last_press)
            self._end(oldest, RingEndReason.TIMEOUT)
        ring = Ring(secrets.token_urlsafe(12), camera_id, self.clock.wall(), now)
        self._rings[camera_id] = ring
        self._by_id[ring.id] = ring
        ring.timer = asyncio.create_task(self._ring_out(ring), name=f"ring:{camera_id}")
        self._bus.publish(RingStarted(ring.id, camera_id, ring.started_at))
        return ring

    async def _ring_out(self, ring: Ring) -> None:
        while (left := ring.last_press + self.ring_s - self.clock.now()) > 0:
            await self.clock.sleep(left)
        ring.timer = None  # ending now; not a task to cancel
        self._end(ring, RingEndReason.TIMEOUT)

    def get(self, ring_id: str) -> Ring | None:
        """An active ring by id."""
        return self._by_id.get(ring_id)

    def current(self, camera_id: str) -> Ring | None:
        """The camera's active ring, if it is ringing (or answered)."""
        return self._rings.get(camera_id)

    def active(self) -> list[Ring]:
        """Every active ring, oldest first."""
        return sorted(self._rings.values(), key=lambda r: r.started_at)

    def answer(self, ring_id: str, username: str, call_id: str) -> Ring | None:
        """A live call started on the ring: the first answers it (and owns its end); later
        ones only join. The ring, or None when it is no longer active."""
        ring = self._by_id.get(ring_id)
        if ring is None or ring.answered_by is not None:
            return ring
        ring.answered_by, ring.answered_at, ring.call = username, self.clock.wall(), call_id
        if ring.timer is not None:  # answered: it lasts as long as the call
            ring.timer.cancel()
            ring.timer = None
        self._bus.publish(
            RingAnswered(ring.id, ring.camera_id, ring.started_at, username, ring.answered_at)
        )
        return ring

    def call_ended(self, call_id: str) -> None:
        """A live call ended: the ring it answered, if any, ends with it."""
        ring = next((r for r in self._by_id.values() if r.call == call_id), None)
        if ring is None:
            return
        held = self._held.get(ring.camera_id)
        if held is not None:
            _log.info(
                "ring at %s ended with its call while the doorbell still reports the press "
                "of %.0f s ago; a press before the doorbell releases its button is not reported",
                ring.camera_id,
                self.clock.now() - held,
            )
        self._end(ring, RingEndReason.ANSWERED_CALL_ENDED)

    def _end(self, ring: Ring, reason: RingEndReason) -> None:
        if self._by_id.pop(ring.id, None) is None:
            return
        if self._rings.get(ring.camera_id) is ring:
            del self._rings[ring.camera_id]
        ring.ended = reason
        if ring.timer is not None and ring.timer is not asyncio.current_task():
            ring.timer.cancel()
        ring.timer = None
        self._bus.publish(
            RingEnded(
                ring.id, ring.camera_id, ring.started_at, reason, self.clock.wall(),
                ring.answered_by, ring.answered_at,
            )
        )  # fmt: skip
        for listener in list(self._listeners):
            try:
                listener(ring)
            except Exception:  # one listener's bug must not keep the ring from ending elsewhere
                _log.exception("a ring listener failed on ring %s", ring.id[:8])
