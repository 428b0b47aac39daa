"""Timing side-channel checks that hold on a loaded machine: each round times every case once,
in a shuffled order, and a case is compared with the reference by the median of their
differences within the same round, so a slow patch of the machine moves both alike."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable


async def interleaved(
    names: Iterable[str], probe: Callable[[str], Awaitable[None]], rounds: int
) -> dict[str, list[float]]:
    """Seconds each `probe(name)` took, per round; the order shuffled every round."""
    order = list(names)
    times: dict[str, list[float]] = {name: [] for name in order}
    shuffle = random.Random(0).shuffle  # the same orders every run
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            started = time.perf_counter()
            await probe(name)
            times[name].append(time.perf_counter() - started)
    return times


def differences_ms(times: dict[str, list[float]], reference: str) -> dict[str, float]:
    """Each case's median, over rounds, of its time minus the reference's, in milliseconds."""
    base = times[reference]
    return {
        name: statistics.median(t - b for t, b in zip(found, base, strict=True)) * 1000
        for name, found in times.items()
    }


def assert_indistinguishable(
    times: dict[str, list[float]], reference: str, tolerance_ms: float = 0.15
) -> None:
    """No case differs from the reference by more than `tolerance_ms` or 15 % of its median
    (a check that works in one case and not another, a slow hash or a disk read, shows as a
    steady difference in every round; tests/test_timing_probe.py shows it is caught)."""
    typical = statistics.median(times[reference]) * 1000
    allowed = max(tolerance_ms, 0.15 * typical)
    differences = differences_ms(times, reference)
    assert all(abs(d) <= allowed for d in differences.values()), (differences, typical)
