"""In-process event bus: each subscriber has its own bounded queue, so none can stall another."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .events import BusEvent

_log = logging.getLogger(__name__)

E = TypeVar("E", bound=BusEvent)


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
        self, bus: EventBus, name: str, types: tuple[type[E], ...], queue_size: int
    ) -> None:
        self.name = name
        self.types = types
        self._bus = bus
        self._queue: asyncio.Queue[E] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.delivered = 0
        self.dropped = 0
        self.errors = 0

    def _offer(self, event: E) -> None:
        """Queue `event`; when full, drop the oldest queued event so the newest state wins."""
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            # Logged at the first drop and at each power of ten, so a stuck consumer is visible
            # without one log line per event.
            if self.dropped & (self.dropped - 1) == 0 or self.dropped % 10_000 == 0:
                _log.warning(
                    "subscriber %s is too slow: %d events dropped", self.name, self.dropped
                )
        self._queue.put_nowait(event)

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
        self, name: str, types: tuple[type[E], ...], queue_size: int | None = None
    ) -> Subscription[E]:
        """Subscribe and read events yourself: `async with bus.stream(…) as s: async for e in s`."""
        subscription: Subscription[E] = Subscription(
            self, name, types, queue_size or self.queue_size
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
    ) -> Subscription[E]:
        """Subscribe a handler; the bus runs it in the subscriber's own task, an event at a time."""
        subscription = self.stream(name, types, queue_size)
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
