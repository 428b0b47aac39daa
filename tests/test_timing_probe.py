"""The timing side-channel check catches a steady difference and passes equal cases, whatever
the machine's load does to both (the positive and negative controls of tests/timing_probe)."""

from __future__ import annotations

import asyncio
import time

import pytest

from .timing_probe import assert_indistinguishable, differences_ms, interleaved


def _spin(seconds: float) -> None:
    """Busy work of a known length (a sleep would measure the timer, not the work)."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


async def test_a_steady_extra_half_millisecond_is_caught() -> None:
    async def probe(name: str) -> None:
        await asyncio.sleep(0)
        _spin(0.0015 if name == "slow" else 0.001)

    times = await interleaved(["same", "slow", "also"], probe, 300)
    assert differences_ms(times, "same")["slow"] == pytest.approx(0.5, abs=0.3)
    with pytest.raises(AssertionError):
        assert_indistinguishable(times, "same")


async def test_equal_cases_pass() -> None:
    async def probe(name: str) -> None:
        await asyncio.sleep(0)
        _spin(0.001)

    assert_indistinguishable(await interleaved(["same", "other", "also"], probe, 300), "same")
