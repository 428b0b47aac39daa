"""The ring tracker on a real event bus with an injected clock: a press starts a ring, more
presses extend it, it ends a ring time after the last press, when its answering call ends, or
when its camera is removed; every change is on the bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

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
from doorstep.gateway.ringing import Ring, RingTracker
from doorstep.sdk import DeviceEvent, EventKind

from .clock import START, FakeClock

RING_S = 60.0


@dataclass
class Rig:
    """A bus, a tracker on it with a fake clock, and what the bus carried about rings."""

    bus: EventBus
    clock: FakeClock
    tracker: RingTracker
    heard: Subscription[BusEvent]
    cameras: set[str] = field(default_factory=lambda: {"front", "side"})
    ended: list[Ring] = field(default_factory=list)

    def press(
        self,
        camera_id: str = "front",
        kind: EventKind = EventKind.DOORBELL,
        active: bool | None = True,
        initial: bool = False,
    ) -> None:
        """The camera reports its button, as a driver would."""
        now = datetime.now(UTC)
        event = DeviceEvent(kind=kind, active=active, time=now, initial=initial)
        self.bus.publish(CameraEventReceived(camera_id, event, now))

    async def next(self) -> BusEvent:
        return await asyncio.wait_for(self.heard.get(), 5)

    async def settle(self) -> None:
        """Let the tracker's bus handler take what was published."""
        for _ in range(20):
            await asyncio.sleep(0)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    bus = EventBus()
    clock = FakeClock()
    heard = bus.stream("test", (RingStarted, RingAnswered, RingEnded))
    cameras = {"front", "side"}
    tracker = RingTracker(bus, RING_S, clock.ring_clock(), exists=cameras.__contains__)
    made = Rig(bus, clock, tracker, heard, cameras)
    tracker.listen(made.ended.append)
    tracker.start()
    yield made
    await tracker.stop()
    await bus.close()


async def test_a_press_rings_until_a_ring_time_after_the_last_press(rig: Rig) -> None:
    rig.press()
    started = await rig.next()
    assert isinstance(started, RingStarted)
    assert (started.camera_id, started.started_at) == ("front", START)
    ring = rig.tracker.current("front")
    assert ring is not None
    assert (ring.id, ring.state) == (started.ring_id, "ringing")
    await rig.clock.advance(40)
    rig.press()  # pressed again: the same ring, extended
    await rig.settle()
    assert rig.tracker.current("front") is ring
    assert ring.presses == 2
    await rig.clock.advance(RING_S - 1)  # 99 s: 59 s after the last press
    assert rig.tracker.active() == [ring]
    await rig.clock.advance(1)
    ended = await rig.next()
    assert isinstance(ended, RingEnded)
    assert (ended.ring_id, ended.reason, ended.answered_by) == (
        ring.id, RingEndReason.TIMEOUT, None,
    )  # fmt: skip
    assert rig.tracker.active() == []
    assert rig.tracker.get(ring.id) is None
    assert rig.ended == [ring]
    assert ring.state == "ended"
    assert rig.heard.stats().queued == 0  # started once, ended once: nothing for the extension

    rig.press()  # a later press is a new ring
    again = await rig.next()
    assert isinstance(again, RingStarted)
    assert again.ring_id != ring.id


async def test_only_a_press_rings(rig: Rig) -> None:
    rig.press(initial=True)  # state re-sent on subscription: not news
    rig.press(active=False)  # the button released
    rig.press(kind=EventKind.MOTION)
    await rig.settle()
    assert rig.tracker.active() == []
    rig.press("side")
    assert isinstance(await rig.next(), RingStarted)
    assert [r.camera_id for r in rig.tracker.active()] == ["side"]


async def test_the_first_call_answers_and_the_ring_lasts_as_long_as_it(rig: Rig) -> None:
    rig.press()
    started = await rig.next()
    assert isinstance(started, RingStarted)
    ring_id = started.ring_id
    await rig.clock.advance(5)
    ring = rig.tracker.answer(ring_id, "alice", "call-1")
    assert ring is not None
    assert ring.state == "answered"
    answered = await rig.next()
    assert isinstance(answered, RingAnswered)
    assert (answered.answered_by, answered.answered_at) == ("alice", rig.clock.wall())
    # A second call joins: the ring stays Alice's, nothing is announced.
    assert rig.tracker.answer(ring_id, "bob", "call-2") is ring
    assert ring.answered_by == "alice"
    await rig.clock.advance(10 * RING_S)  # answered: no timeout while the call goes on
    assert rig.tracker.get(ring_id) is ring
    rig.tracker.call_ended("call-2")  # Bob hangs up: still Alice's call
    assert rig.tracker.get(ring_id) is ring
    rig.tracker.call_ended("call-1")
    ended = await rig.next()
    assert isinstance(ended, RingEnded)
    assert (ended.reason, ended.answered_by) == (RingEndReason.ANSWERED_CALL_ENDED, "alice")
    assert rig.tracker.answer(ring_id, "carol", "call-3") is None  # over


async def test_a_removed_camera_ends_its_ring_a_restarted_one_does_not(rig: Rig) -> None:
    rig.press()
    started = await rig.next()
    assert isinstance(started, RingStarted)
    ring_id = started.ring_id
    rig.bus.publish(CameraStateChanged("front", CameraState.STOPPED))  # a reconnect
    await rig.settle()
    assert rig.tracker.get(ring_id) is not None
    rig.cameras.discard("front")  # removed: gone from the supervisors, then stopped
    rig.bus.publish(CameraStateChanged("front", CameraState.STOPPED))
    ended = await rig.next()
    assert isinstance(ended, RingEnded)
    assert (ended.ring_id, ended.reason) == (ring_id, RingEndReason.CAMERA_REMOVED)


async def test_each_camera_rings_on_its_own(rig: Rig) -> None:
    rig.press("front")
    await rig.settle()
    await rig.clock.advance(30)
    rig.press("side")
    await rig.settle()
    front, side = rig.tracker.active()
    assert (front.camera_id, side.camera_id) == ("front", "side")
    await rig.clock.advance(RING_S - 30)
    assert rig.tracker.active() == [side]  # front's minute is up, side's is not
    await rig.clock.advance(30)
    assert rig.tracker.active() == []
    assert [(r.camera_id, r.ended) for r in rig.ended] == [
        ("front", RingEndReason.TIMEOUT), ("side", RingEndReason.TIMEOUT),
    ]  # fmt: skip
