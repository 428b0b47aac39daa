"""The event bus: typed routing, per-subscriber queues, back-pressure that drops and counts."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from gateway.bus import EventBus
from gateway.events import BusEvent


@dataclass(frozen=True, slots=True)
class Tick(BusEvent):
    n: int


@dataclass(frozen=True, slots=True)
class Tock(BusEvent):
    n: int


async def settle(rounds: int = 3) -> None:
    """Let the loop run a few iterations (enough for one queue hand-off and a handler call)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_events_are_routed_by_type() -> None:
    bus = EventBus()
    ticks: list[int] = []
    everything: list[BusEvent] = []

    async def on_tick(event: Tick) -> None:
        ticks.append(event.n)

    async def on_any(event: BusEvent) -> None:
        everything.append(event)

    bus.subscribe("ticks", on_tick, (Tick,))
    bus.subscribe("all", on_any, (BusEvent,))
    bus.publish(Tick(1))
    bus.publish(Tock(2))
    bus.publish(Tick(3))
    await settle(6)
    assert ticks == [1, 3]
    assert everything == [Tick(1), Tock(2), Tick(3)]
    await bus.close()


async def test_stuck_subscriber_does_not_delay_another() -> None:
    bus = EventBus()
    release = asyncio.Event()
    fast: list[int] = []

    async def stuck(event: Tick) -> None:
        await release.wait()

    async def quick(event: Tick) -> None:
        fast.append(event.n)

    slow_sub = bus.subscribe("stuck", stuck, (Tick,), queue_size=10)
    bus.subscribe("quick", quick, (Tick,))
    for n in range(500):
        bus.publish(Tick(n))  # never awaits, so it cannot be held up by anybody
        # The quick subscriber has each event within a couple of loop iterations, no matter
        # that the stuck one has not finished its first.
        await settle(2)
        assert fast[-1] == n
    stats = {s.name: s for s in bus.stats()}
    assert stats["quick"].dropped == 0
    assert stats["quick"].delivered == 500
    # One event is in the stuck handler, ten wait in its queue, the rest were dropped.
    assert stats["stuck"].delivered == 1
    assert stats["stuck"].queued == 10
    assert stats["stuck"].dropped == 489
    assert slow_sub.dropped == 489
    release.set()
    await settle(30)
    assert bus.stats()[0].delivered == 11
    await bus.close()


async def test_dropping_keeps_the_newest_and_warns_sparingly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus(queue_size=3)
    with caplog.at_level(logging.WARNING, logger="gateway.bus"):
        async with bus.stream("reader", (Tick,)) as reader:
            for n in range(1000):
                bus.publish(Tick(n))
            got = [(await reader.get()).n for _ in range(3)]
    assert got == [997, 998, 999]
    warnings = [r for r in caplog.records if "too slow" in r.getMessage()]
    assert 1 <= len(warnings) <= 11  # powers of two up to 997 drops, not one per drop


async def test_failing_handler_is_counted_and_keeps_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[int] = []

    async def flaky(event: Tick) -> None:
        if event.n == 1:
            raise ValueError("bad event")
        seen.append(event.n)

    bus.subscribe("flaky", flaky, (Tick,))
    with caplog.at_level(logging.ERROR, logger="gateway.bus"):
        for n in range(3):
            bus.publish(Tick(n))
        await settle(10)
    assert seen == [0, 2]
    assert bus.stats()[0].errors == 1
    assert "subscriber flaky failed on Tick" in caplog.text
    await bus.close()


async def test_closed_subscription_receives_nothing() -> None:
    bus = EventBus()
    seen: list[int] = []

    async def handler(event: Tick) -> None:
        seen.append(event.n)

    subscription = bus.subscribe("h", handler, (Tick,))
    await subscription.close()
    bus.publish(Tick(1))
    await settle()
    assert seen == []
    assert bus.stats() == []
    assert bus.published == 1


async def test_stream_iterates_in_order() -> None:
    bus = EventBus()
    async with bus.stream("reader", (Tick,)) as reader:
        for n in range(5):
            bus.publish(Tick(n))
        received = []
        async for event in reader:
            received.append(event.n)
            if len(received) == 5:
                break
    assert received == [0, 1, 2, 3, 4]
