"""A press while the doorbell still holds the previous one (UI helper's report: "after a call, a
second press produced no doorbell event").

An ONVIF doorbell reports its button as a property (Reolink's Visitor: true, then false a few
seconds later); a property only reports changes, so a press while it is still true sends
nothing. A call answered from a prepared call and hung up at once ends inside that hold, and the
test's next press fell in it. These tests pin down that the press is then said to be unreported
(by the simulator's control API and log, and by the gateway's log when the call ended while the
doorbell still held the press), and that the gateway hears the next press after the release.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.events import (
    BusEvent,
    CameraEventReceived,
    CameraState,
    CameraStateChanged,
    RingEndReason,
)
from doorstep.gateway.ringing import RingTracker
from doorstep.gateway.web.keys import BUS, RINGS
from doorstep.sdk import DeviceEvent, EventKind
from doorstep.simulator import SimulatedDevice, Simulator

from ..gateway_client import call
from ..live.conftest import app, offer, peers, server, signed_in  # noqa: F401  # fixtures
from ..ringing.clock import FakeClock
from ..ringing.helpers import until
from ..simulator.conftest import doorbell, media, simulator, simulator_factory  # noqa: F401

LONG_HOLD_S = 60.0
"""Longer than any loaded machine takes for a call: the second press is inside the hold."""


async def doorbell_event(tap: Subscription[BusEvent], timeout: float) -> CameraEventReceived:
    """The next doorbell event of `front` on the bus (TimeoutError if none comes in time)."""
    async with asyncio.timeout(timeout):
        while True:
            message = await tap.get()
            if (
                isinstance(message, CameraEventReceived)
                and message.camera_id == "front"
                and message.event.kind is EventKind.DOORBELL
            ):
                return message


async def test_a_press_during_the_hold_after_a_call_is_said_to_be_unreported_and_the_next_rings(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],  # noqa: F811
    simulator: Simulator, doorbell: SimulatedDevice, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    doorbell.profile.visitor_hold_s = LONG_HOLD_S
    rita = await signed_in(aiohttp_client, server, "rita")
    headers = {"Authorization": f"Bearer {simulator.control_token}"}
    async with (
        aiohttp.ClientSession(base_url=simulator.control_url, headers=headers) as control,
        app[BUS].stream("press-during-hold", (CameraEventReceived,), 1000) as tap,
    ):

        async def press() -> dict[str, Any]:
            async with control.post("/devices/doorbell-1/press") as response:
                assert response.status == 200
                answer: dict[str, Any] = await response.json()
                return answer

        first = await press()
        pressed = await doorbell_event(tap, 10)
        assert (pressed.event.active, pressed.event.initial) == (True, False)
        await until(lambda: app[RINGS].current("front") is not None)
        the_ring = app[RINGS].current("front")
        assert the_ring is not None

        # Answered from a prepared call and hung up at once: the ring ends inside the hold.
        pc, sdp = await offer(peers)
        body = {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
        status, answer = await call(rita, "POST", "/api/live/front", body)
        assert status == 201, answer
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        session = answer["session"]
        status, answered = await call(rita, "POST", f"/api/live/session/{session}/answer")
        assert (status, answered["answered_by"]) == (200, "rita")
        assert await call(rita, "DELETE", f"/api/live/session/{session}") == (200, {"ok": True})
        assert the_ring.ended is RingEndReason.ANSWERED_CALL_ENDED

        # The press the report was about: the doorbell sends nothing, and now says so.
        second = await press()
        assert doorbell.properties["visitor"].value is True
        assert second.get("reported") is False, second
        assert 0 <= second["held_s"] < LONG_HOLD_S
        assert "still held" in second["reason"]
        told = [r.getMessage() for r in caplog.records if r.name.startswith("doorstep.simulator")]
        assert any("press not reported" in line for line in told), told
        with pytest.raises(TimeoutError):
            await doorbell_event(tap, 1.0)
        assert app[RINGS].current("front") is None
        # The gateway's log says why a press right after the call may go unheard.
        ended = [r.getMessage() for r in caplog.records if r.name.endswith("ringing.tracker")]
        assert any("still reports the press" in line for line in ended), ended

        # Released: the gateway hears the release, and the next press is a new ring.
        doorbell.set_property("visitor", False)
        released = await doorbell_event(tap, 10)
        assert released.event.active is False
        third = await press()
        assert third["reported"] is True
        assert (await doorbell_event(tap, 10)).event.active is True
        await until(lambda: app[RINGS].current("front") is not None)
        assert app[RINGS].current("front") is not the_ring
    assert first["reported"] is True


async def test_the_simulated_doorbell_reports_a_press_only_once_its_button_released(
    doorbell: SimulatedDevice,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    doorbell.profile.visitor_hold_s = 0.3
    assert doorbell.press() is True
    assert doorbell.press() is False  # still held: nothing is sent, the hold starts again
    assert doorbell.properties["visitor"].value is True
    assert any("press not reported" in r.getMessage() for r in caplog.records)
    await until(lambda: doorbell.properties["visitor"].value is False, 10)
    assert doorbell.press() is True


async def test_the_gateway_says_so_only_while_the_doorbell_still_holds_the_press(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="doorstep.gateway.ringing.tracker")
    bus = EventBus()
    clock = FakeClock()
    tracker = RingTracker(bus, 60.0, clock.ring_clock())
    tracker.start()

    async def report(active: bool, initial: bool = False) -> None:
        now = datetime.now(UTC)
        event = DeviceEvent(kind=EventKind.DOORBELL, active=active, time=now, initial=initial)
        bus.publish(CameraEventReceived("front", event, now))
        for _ in range(20):  # let the tracker's bus handler take it
            await asyncio.sleep(0)

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if "still reports the press" in r.message]

    try:
        # Pressed, answered, and hung up 2 s later, the button still reported pressed.
        await report(True)
        ring = tracker.current("front")
        assert ring is not None
        tracker.answer(ring.id, "rita", "call-1")
        await clock.advance(2)
        tracker.call_ended("call-1")
        assert said() == [
            "ring at front ended with its call while the doorbell still reports the press of "
            "2 s ago; a press before the doorbell releases its button is not reported"
        ]
        # Released before the call ended: nothing to say.
        await report(False)
        await report(True)
        ring = tracker.current("front")
        assert ring is not None
        tracker.answer(ring.id, "rita", "call-2")
        await report(False)
        tracker.call_ended("call-2")
        assert len(said()) == 1
        # A reconnect forgets the button until the camera says again (its Initialized state).
        await report(True)
        ring = tracker.current("front")
        assert ring is not None
        tracker.answer(ring.id, "rita", "call-3")
        bus.publish(CameraStateChanged("front", CameraState.CONNECTING, None, None))
        await report(False, initial=True)
        tracker.call_ended("call-3")
        assert len(said()) == 1
        assert ring.ended is RingEndReason.ANSWERED_CALL_ENDED
    finally:
        await tracker.stop()
        await bus.close()
