"""In-process event bus: each subscriber has its own bounded queue, so none can stall another.

A subscriber's queue is fair per source (the camera an event is about): every source has its own
bounded sub-queue and they are served in turn, so when a subscriber falls behind, a camera that
floods drops its own oldest events and never another camera's (issue 11, hole 3b).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from doorstep.gateway.events import BusEvent

_log = logging.getLogger(__name__)

E = TypeVar("E", bound=BusEvent)

MAX_SOURCES = 128
"""Sources with a sub-queue of their own per subscriber; any further ones share one (memory stays
bounded by queue size times this, whatever keys events carry)."""
_SHARED = object()
"""The key of the sub-queue that sources past MAX_SOURCES share."""


def source_of(event: BusEvent) -> Hashable:
    """The default fairness key: the camera an event is about (None for gateway-wide events)."""
    camera: Hashable = getattr(event, "camera_id", None)
    return camera


class FairQueue(Generic[E]):
    """FIFO sub-queues per key, served round-robin; a full sub-queue drops its own oldest."""

    def __init__(self, per_key: int, max_keys: int = MAX_SOURCES) -> None:
        self.per_key = per_key
        self.max_keys = max_keys
        self._queues: dict[Hashable, deque[E]] = {}
        self._turns: deque[Hashable] = deque()
        """Keys with something queued, in the order they are served next."""
        self._size = 0
        self._ready = asyncio.Event()

    def qsize(self) -> int:
        """Events queued under every key."""
        return self._size

    def key_for(self, key: Hashable) -> Hashable:
        """`key`, or the shared key once `max_keys` others have sub-queues."""
        if key in self._queues or len(self._queues) < self.max_keys:
            return key
        return _SHARED

    def put(self, key: Hashable, event: E) -> bool:
        """Queue `event` under `key`; True when that key's oldest event was dropped for it."""
        key = self.key_for(key)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._turns.append(key)
        dropped = len(queue) >= self.per_key
        if dropped:
            queue.popleft()
        else:
            self._size += 1
        queue.append(event)
        self._ready.set()
        return dropped

    def get_nowait(self) -> E:
        """The next event in round-robin order of keys; IndexError when empty."""
        key = self._turns.popleft()
        queue = self._queues[key]
        event = queue.popleft()
        self._size -= 1
        if queue:
            self._turns.append(key)
        else:
            del self._queues[key]  # an idle source costs nothing
        return event

    async def get(self) -> E:
        """Wait for the next event."""
        while not self._size:
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    """Counters of one subscriber, as shown in /api/health."""

    name: str
    queued: int
    delivered: int
    dropped: int
    errors: int


class Subscription(Generic[E]):
    """A subscriber's bounded queue; iterate it, or let the bus run a handler over it."""

    def __init__(
        self,
        bus: EventBus,
        name: str,
        types: tuple[type[E], ...],
        queue_size: int,
        key: Callable[[E], Hashable] = source_of,
    ) -> None:
        self.name = name
        self.types = types
        self._bus = bus
        self._queue: FairQueue[E] = FairQueue(queue_size)
        self._key = key
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.delivered = 0
        self.dropped = 0
        self.errors = 0
        self.dropped_by_source: dict[Hashable, int] = {}
        """Drops per fairness key (a camera id); as bounded as the queue's keys."""

    def _offer(self, event: E) -> None:
        """Queue `event`; when its source's sub-queue is full, drop that source's oldest event."""
        key = self._queue.key_for(self._key(event))
        if not self._queue.put(key, event):
            return
        self.dropped += 1
        self.dropped_by_source[key] = self.dropped_by_source.get(key, 0) + 1
        # Logged at the first drop, at each power of two and every 10 000, so a stuck consumer
        # is visible without one log line per event.
        if self.dropped & (self.dropped - 1) == 0 or self.dropped % 10_000 == 0:
            source = "several sources" if key is _SHARED else (key or "the gateway")
            _log.warning(
                "subscriber %s is too slow: %d events dropped, the latest from %s",
                self.name,
                self.dropped,
                source,
            )

    async def get(self) -> E:
        """Wait for the next event."""
        event = await self._queue.get()
        self.delivered += 1
        return event

    def __aiter__(self) -> AsyncIterator[E]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[E]:
        while not self._closed:
            yield await self.get()

    def _run(self, handler: Callable[[E], Awaitable[None]]) -> None:
        self._task = asyncio.create_task(self._handle_all(handler), name=f"bus:{self.name}")

    async def _handle_all(self, handler: Callable[[E], Awaitable[None]]) -> None:
        while True:
            event = await self.get()
            try:
                await handler(event)
            except Exception:
                self.errors += 1
                _log.exception("subscriber %s failed on %s", self.name, type(event).__name__)

    def stats(self) -> SubscriptionStats:
        """A snapshot of this subscriber's counters."""
        return SubscriptionStats(
            self.name, self._queue.qsize(), self.delivered, self.dropped, self.errors
        )

    async def close(self) -> None:
        """Stop receiving; a handler task is cancelled and awaited."""
        if self._closed:
            return
        self._closed = True
        self._bus._remove(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def __aenter__(self) -> Subscription[E]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class EventBus:
    """Fan-out of `BusEvent`s to typed subscribers; `publish` never blocks or raises."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        # Type-erased: each subscription only ever receives the types it asked for.
        self._subscriptions: list[Subscription[Any]] = []
        self._routes: dict[type[BusEvent], list[Subscription[Any]]] = {}
        self.published = 0

    def publish(self, event: BusEvent) -> None:
        """Offer `event` to every subscriber that wants its type."""
        self.published += 1
        kind = type(event)
        route = self._routes.get(kind)
        if route is None:
            route = [s for s in self._subscriptions if issubclass(kind, s.types)]
            self._routes[kind] = route
        for subscription in route:
            subscription._offer(event)

    def stream(
        self,
        name: str,
        types: tuple[type[E], ...],
        queue_size: int | None = None,
        key: Callable[[E], Hashable] = source_of,
    ) -> Subscription[E]:
        """Subscribe and read events yourself: `async with bus.stream(…) as s: async for e in s`.

        `queue_size` bounds the events queued per source (`key` of an event, by default the
        camera it is about); sources are served in turn.
        """
        subscription: Subscription[E] = Subscription(
            self, name, types, queue_size or self.queue_size, key
        )
        self._subscriptions.append(subscription)
        self._routes.clear()
        return subscription

    def subscribe(
        self,
        name: str,
        handler: Callable[[E], Awaitable[None]],
        types: tuple[type[E], ...],
        queue_size: int | None = None,
        key: Callable[[E], Hashable] = source_of,
    ) -> Subscription[E]:
        """Subscribe a handler; the bus runs it in the subscriber's own task, an event at a time."""
        subscription = self.stream(name, types, queue_size, key)
        subscription._run(handler)
        return subscription

    def _remove(self, subscription: Subscription[E]) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)
        self._routes.clear()

    def stats(self) -> list[SubscriptionStats]:
        """Counters of every current subscriber."""
        return [s.stats() for s in self._subscriptions]

    async def close(self) -> None:
        """Close every subscription."""
        for subscription in list(self._subscriptions):
            await subscription.close()
