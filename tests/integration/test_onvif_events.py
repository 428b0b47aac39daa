"""Events from simulated ONVIF devices reach the gateway's bus through the real ONVIF driver."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import DEVICES
from doorstep.sdk import EventKind
from doorstep.simulator import SimulatedDevice, Simulator

from .conftest import StartGateway, camera_entry, press_latencies


async def test_doorbell_presses_arrive_in_order_by_long_poll(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    doorbell = simulator.devices["doorbell-1"]
    doorbell.profile.visitor_hold_s = 0.3
    gateway = await start_gateway([camera_entry(doorbell)])
    await gateway.state("doorbell-1", CameraState.ONLINE)
    initial = await gateway.drain()
    assert initial, "a new subscription starts with the current state of every property"
    assert all(e.event.initial for e in initial)
    assert {e.event.kind for e in initial} >= {EventKind.DOORBELL, EventKind.MOTION}
    pulls_before = doorbell.requests["PullMessages"]
    presses = 5
    # Each press arrives as a live doorbell 'on' then 'off', in order, none lost (the helper
    # asserts that); how fast is bench/events.py's figure, not this test's.
    await press_latencies(gateway, doorbell, presses)
    pulls = doorbell.requests["PullMessages"] - pulls_before
    # A long-poll answers once per message at most (an 'on' and an 'off' per press, plus the
    # pull waiting when the presses began and ended); polling or a busy loop asks far more.
    assert 1 <= pulls <= 2 * presses + 2, pulls


async def test_motion_start_and_stop(simulator: Simulator, start_gateway: StartGateway) -> None:
    camera = simulator.devices["camera-1"]
    gateway = await start_gateway([camera_entry(camera)])
    await gateway.state("camera-1", CameraState.ONLINE)
    await gateway.drain()
    camera.motion(True)
    started = [await gateway.next_event(), await gateway.next_event()]
    assert {(e.event.kind, e.event.active) for e in started} == {(EventKind.MOTION, True)}
    assert {e.event.topic for e in started} == {
        "tns1:VideoSource/MotionAlarm",
        "tns1:RuleEngine/CellMotionDetector/Motion",
    }
    camera.motion(False)
    stopped = [await gateway.next_event(), await gateway.next_event()]
    assert {(e.event.kind, e.event.active) for e in stopped} == {(EventKind.MOTION, False)}


async def test_events_resume_within_15_s_of_a_reboot(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    doorbell = simulator.devices["doorbell-1"]
    gateway = await start_gateway([camera_entry(doorbell)], supervisor={"backoff_initial_s": 1.0})
    await gateway.state("doorbell-1", CameraState.ONLINE)
    await gateway.drain()
    doorbell.schedule_reboot(3.0)
    await gateway.state("doorbell-1", CameraState.UNAVAILABLE)
    while not doorbell.online:
        await asyncio.sleep(0.02)
    answered = time.perf_counter()
    await gateway.state("doorbell-1", CameraState.ONLINE, timeout=15)
    await gateway.drain()  # the Initialized burst of the new subscription
    doorbell.press()
    event = await gateway.next_event(timeout=15)
    assert (event.event.kind, event.event.active) == (EventKind.DOORBELL, True)
    assert time.perf_counter() - answered < 15


async def test_skewed_camera_clock_still_connects(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    ahead, behind = simulator.devices["doorbell-1"], simulator.devices["camera-1"]
    ahead.clock_skew = timedelta(hours=10)
    behind.clock_skew = timedelta(hours=-10)
    gateway = await start_gateway([camera_entry(ahead), camera_entry(behind)])
    await gateway.state("doorbell-1", CameraState.ONLINE)
    await gateway.state("camera-1", CameraState.ONLINE)
    offsets = {
        cid: s.info.clock_offset_s for cid, s in gateway.app[DEVICES].supervisors.items() if s.info
    }
    assert abs((offsets["doorbell-1"] or 0) - 36000) < 5  # recorded: evidence needs it
    assert abs((offsets["camera-1"] or 0) + 36000) < 5
    await gateway.drain()
    ahead.press()
    event = await gateway.next_event(camera="doorbell-1")
    assert event.event.kind is EventKind.DOORBELL


async def test_wrong_password_needs_credentials(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    camera = simulator.devices["camera-1"]
    gateway = await start_gateway([camera_entry(camera, password="not-the-password")])
    changed = await gateway.state("camera-1", CameraState.NEEDS_CREDENTIALS)
    assert changed.reason is not None
    assert "credentials refused" in changed.reason
    assert not gateway.app[DEVICES].supervisors["camera-1"].running  # no retry loop hammering it


async def test_xaddr_to_another_host_is_refused(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    camera: SimulatedDevice = simulator.devices["camera-1"]
    camera.hostile = "foreign_xaddr"
    gateway = await start_gateway([camera_entry(camera)])
    changed = await gateway.state("camera-1", CameraState.UNAVAILABLE)
    assert changed.reason is not None
    assert "192.0.2.1" in changed.reason
    assert "refused" in changed.reason


async def test_motion_that_never_ends_is_cleared(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    camera = simulator.devices["camera-1"]
    entry = camera_entry(camera, options={"motion_auto_clear_s": 1.5})
    gateway = await start_gateway([entry])
    await gateway.state("camera-1", CameraState.ONLINE)
    await gateway.drain()
    camera.motion(True)  # and the camera never says 'false'
    started = [await gateway.next_event(), await gateway.next_event()]
    assert {e.event.active for e in started} == {True}
    cleared = [await gateway.next_event(timeout=5), await gateway.next_event(timeout=5)]
    assert {(e.event.kind, e.event.active) for e in cleared} == {(EventKind.MOTION, False)}
    assert {e.event.attributes.get("auto_clear") for e in cleared} == {"true"}
    # The row says what the clear means: the data item the camera sent as 'true' is now false.
    states = {e.event.attributes.get(f"data.{e.event.attributes['data_item']}") for e in cleared}
    assert states == {"false"}
    assert min(e.received_at for e in cleared) - max(e.received_at for e in started) >= timedelta(
        seconds=1.4
    )
