"""Events per camera per second: a flood is dropped at the camera, counted and logged once."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from doorstep.gateway.devices.event_budget import DOORBELL_BURST, QUIET_S, EventBudget, TokenBucket
from doorstep.gateway.events import CameraEventReceived, CameraState, CameraStateChanged
from doorstep.sdk import DeviceEvent, EventKind, ProtocolError

from .test_supervisor import PRESS, Harness, harness  # noqa: F401  # fixture

MOTION = DeviceEvent(
    kind=EventKind.MOTION,
    active=True,
    time=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    topic="tns1:VideoSource/MotionAlarm",
)


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(20, 50, clock)
    assert sum(bucket.take() for _ in range(100)) == 50
    clock.now += 1.0
    assert sum(bucket.take() for _ in range(100)) == 20
    clock.now += 3600.0  # a quiet hour refills to the burst, not beyond
    assert sum(bucket.take() for _ in range(100)) == 50


def test_a_flood_is_dropped_counted_and_logged_once_per_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    budget = EventBudget(logging.getLogger("test.budget"), clock, rate=20, burst=50)
    with caplog.at_level(logging.INFO, logger="test.budget"):
        admitted = 0
        for second in range(10):  # 1000 events a second for ten seconds
            for _ in range(1000):
                admitted += budget.admit(MOTION)
                clock.now += 0.001
            assert second or 68 <= admitted <= 70  # the burst, then the rate
        assert admitted <= 50 + 20 * 10 + 1
        assert budget.dropped == 10_000 - admitted
        clock.now += QUIET_S
        assert budget.admit(MOTION)  # the flood is over; the camera is heard again
        clock.now += 60
        for _ in range(200):  # a second flood, later
            budget.admit(MOTION)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines  # flood, over (with its count), flood
    assert lines[0].startswith("event flood: over 20 events/s")
    assert lines[1] == f"event flood over: {10_000 - admitted} events dropped in 10 s"
    assert budget.floods == 2


def test_doorbell_presses_survive_a_motion_flood_from_the_same_camera() -> None:
    clock = Clock()
    budget = EventBudget(logging.getLogger("test.budget"), clock)
    presses = 0
    for n in range(5000):
        budget.admit(MOTION)
        if n % 1000 == 0:
            presses += budget.admit(PRESS)
        clock.now += 0.001
    assert presses == 5
    # A flood of presses themselves is bounded by their own budget.
    assert sum(budget.admit(PRESS) for _ in range(100)) <= DOORBELL_BURST


async def test_supervisor_drops_a_flood_but_never_a_state_change(
    harness: Harness,  # noqa: F811  # the fixture imported above
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The budget's clock stands still: however slowly a loaded machine drains the flood, no
    # tokens trickle in, so exactly the burst gets through.
    supervisor = harness.supervisor(events_per_s=20.0, event_burst=50, clock=Clock())
    supervisor.start()
    await harness.states_until(CameraState.ONLINE)
    with caplog.at_level(logging.INFO, logger="doorstep.gateway.devices"):
        for _ in range(2000):
            harness.script.feed.put_nowait(MOTION)
        harness.script.feed.put_nowait(PRESS)
        harness.script.feed.put_nowait(ProtocolError("camera gone"))
        published: list[CameraEventReceived] = []
        while True:
            message = await asyncio.wait_for(harness.messages.get(), 5)
            if isinstance(message, CameraStateChanged):
                break
            assert isinstance(message, CameraEventReceived)
            published.append(message)
    assert message.state is CameraState.UNAVAILABLE  # the state change got through
    assert published[-1].event == PRESS  # and so did the press, after 2000 motion events
    motion = len(published) - 1
    assert motion == 50  # the burst, and not one more
    assert supervisor.budget.dropped == 2000 - motion
    floods = [r for r in caplog.records if "event flood" in r.getMessage()]
    assert len(floods) == 1  # not a line per event (hole 9)
    assert await harness.states_until(CameraState.ONLINE)
    await supervisor.stop()
