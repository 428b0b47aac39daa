"""Event bus figures: throughput and publish→deliver latency for 1, 8 and 64 subscribers.

Two runs per subscriber count, 10k events each:
- latency: events published one at a time, each delivered to every subscriber before the next
  (the cost a single doorbell press pays); p50/p99 over every delivery.
- throughput: 10k events published back to back; events/s until every subscriber has them all.
- the 8-subscriber latency again with a ninth subscriber stuck forever (its queue overflows).

Usage: python bench/bus.py [--events N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from dataclasses import dataclass

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.events import BusEvent

SUBSCRIBER_COUNTS = (1, 8, 64)


@dataclass(frozen=True, slots=True)
class Stamped(BusEvent):
    """An event carrying its publish time."""

    published_ns: int


async def measure_latency(subscribers: int, events: int, stuck: bool = False) -> list[float]:
    bus = EventBus(queue_size=events)
    never = asyncio.Event()

    async def stuck_handler(event: Stamped) -> None:
        await never.wait()

    if stuck:  # one subscriber that never finishes: the others must not notice
        bus.subscribe("stuck", stuck_handler, (Stamped,), queue_size=100)
    latencies_ms: list[float] = []
    remaining = 0
    all_delivered = asyncio.Event()

    async def handler(event: Stamped) -> None:
        nonlocal remaining
        latencies_ms.append((time.perf_counter_ns() - event.published_ns) / 1e6)
        remaining -= 1
        if remaining == 0:
            all_delivered.set()

    for i in range(subscribers):
        bus.subscribe(f"s{i}", handler, (Stamped,))
    await asyncio.sleep(0)
    for _ in range(events):
        remaining = subscribers
        all_delivered.clear()
        bus.publish(Stamped(time.perf_counter_ns()))
        await all_delivered.wait()
    await bus.close()
    return latencies_ms


async def measure_throughput(subscribers: int, events: int) -> float:
    bus = EventBus(queue_size=events)
    remaining = subscribers * events
    done = asyncio.Event()

    async def handler(event: Stamped) -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            done.set()

    for i in range(subscribers):
        bus.subscribe(f"s{i}", handler, (Stamped,))
    await asyncio.sleep(0)
    started = time.perf_counter()
    for _ in range(events):
        bus.publish(Stamped(0))
    await done.wait()
    elapsed = time.perf_counter() - started
    dropped = sum(s.dropped for s in bus.stats())
    await bus.close()
    if dropped:
        raise RuntimeError(f"{dropped} events dropped: the throughput figure would be wrong")
    return events / elapsed


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


async def run(events: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    for n in SUBSCRIBER_COUNTS:
        latencies = await measure_latency(n, events)
        figures[f"p50_ms_{n}_subscribers"] = round(percentile(latencies, 0.50), 4)
        figures[f"p99_ms_{n}_subscribers"] = round(percentile(latencies, 0.99), 4)
        figures[f"throughput_events_per_s_{n}_subscribers"] = round(
            await measure_throughput(n, events)
        )
    stuck = await measure_latency(8, events, stuck=True)
    figures["p99_ms_8_subscribers_plus_1_stuck"] = round(percentile(stuck, 0.99), 4)
    return figures


def main() -> None:
    # The stuck subscriber's drop warnings are expected here; keep them off the figures.
    logging.getLogger("doorstep.gateway.bus").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args()
    figures = asyncio.run(run(args.events))
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        unit = "ms" if "_ms_" in name else "events/s"
        print(f"{name}: {value} {unit}")


if __name__ == "__main__":
    main()
