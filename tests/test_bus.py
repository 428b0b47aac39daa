"""The event bus: typed routing, per-subscriber queues, back-pressure that drops and counts."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from doorstep.gateway.bus.event_bus import MAX_SOURCES, EventBus
from doorstep.gateway.events import BusEvent


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
    with caplog.at_level(logging.WARNING, logger="doorstep.gateway.bus"):
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
    with caplog.at_level(logging.ERROR, logger="doorstep.gateway.bus"):
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


@dataclass(frozen=True, slots=True)
class CameraTick(BusEvent):
    camera_id: str
    n: int


async def test_a_flooding_source_drops_its_own_oldest_not_another_sources() -> None:
    bus = EventBus()
    async with bus.stream("slow", (CameraTick,), queue_size=10) as slow:
        for n in range(1000):
            bus.publish(CameraTick("flood", n))
            if n % 100 == 50:
                bus.publish(CameraTick("quiet", n))
        assert slow.stats().queued == 20  # ten per source: bounded by size times sources
        got = [await slow.get() for _ in range(20)]
    quiet = [e.n for e in got if e.camera_id == "quiet"]
    flood = [e.n for e in got if e.camera_id == "flood"]
    assert quiet == [50, 150, 250, 350, 450, 550, 650, 750, 850, 950]  # every one of them
    assert flood == list(range(990, 1000))  # the flood kept only its newest
    assert slow.dropped == 990
    assert slow.dropped_by_source == {"flood": 990}


async def test_sources_are_served_in_turn() -> None:
    bus = EventBus()
    async with bus.stream("reader", (BusEvent,)) as reader:
        for n in range(3):
            bus.publish(CameraTick("a", n))
        bus.publish(CameraTick("b", 0))
        bus.publish(Tick(7))  # no camera: a source of its own
        order = [await reader.get() for _ in range(5)]
    assert order == [CameraTick("a", 0), CameraTick("b", 0), Tick(7), CameraTick("a", 1),
                     CameraTick("a", 2)]  # fmt: skip


async def test_sources_past_the_limit_share_one_queue() -> None:
    bus = EventBus(queue_size=2)
    async with bus.stream("reader", (CameraTick,)) as reader:
        for camera in range(MAX_SOURCES + 50):
            for n in range(3):
                bus.publish(CameraTick(f"cam-{camera}", n))
        # Two per source for the first MAX_SOURCES, two in total for the other fifty.
        assert reader.stats().queued == 2 * MAX_SOURCES + 2
        assert len(reader.dropped_by_source) == MAX_SOURCES + 1


async def test_a_custom_key_decides_fairness() -> None:
    bus = EventBus()
    async with bus.stream("parity", (Tick,), queue_size=1, key=lambda e: e.n % 2) as reader:
        for n in range(10):
            bus.publish(Tick(n))
        assert [(await reader.get()).n for _ in range(2)] == [8, 9]
