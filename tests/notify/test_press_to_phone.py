"""A press on the simulated doorbell reaches a phone: ONVIF event → bus → Web Push, encrypted,
signed and posted to a real push service on loopback that decrypts it (tests/peers)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest

from doorstep.gateway.web.keys import BUS
from doorstep.sdk import EventKind

from .conftest import Login, publish, settle
from .rig import CONTACT, PushRig, api, press_to_push, subscribe_device


async def test_a_press_arrives_decrypted_with_the_ring_notification(
    rig: PushRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep")
    [latency] = await press_to_push(rig, 1)
    assert 0 < latency < 15
    [message] = rig.receiver.messages_for(rig.device)
    note = message.json()
    assert note["title"] == "Front door"
    assert note["body"] == "Someone rang the doorbell"
    assert note["url"] == "/#/live/front"
    assert note["image"] == "/api/cameras/front/snapshot"
    assert note["tag"] == "ring-front"
    assert (note["kind"], note["camera_id"], note["camera_name"]) == ("ring", "front", "Front door")
    assert datetime.fromisoformat(note["time"]).tzinfo is not None
    # The push headers: a ring is urgent, short-lived, and a newer ring replaces an older one.
    assert (message.urgency, message.topic, message.ttl) == ("high", "ring-front", "120")
    # The VAPID claims the receiver verified (ES256 signature, k = the subscription's key).
    assert message.claims["aud"] == rig.receiver.origin
    assert message.claims["sub"] == CONTACT
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert status == 200
    [device] = listed["subscriptions"]
    assert device["last_success_at"] is not None
    assert device["endpoint_host"] == "127.0.0.1"
    # Endpoints and keys are the device's secrets: never in a log line.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert rig.device.sid not in logged
    assert rig.device.p256dh not in logged


async def test_the_release_and_the_state_at_subscription_do_not_ring(rig: PushRig) -> None:
    await press_to_push(rig, 2)
    await settle(rig)
    # Two presses, each an 'on' then an 'off' on the bus, plus the doorbell's initial state:
    # exactly the two 'on's rang.
    assert len(rig.receiver.messages_for(rig.device)) == 2


async def test_every_household_device_that_may_see_the_camera_rings(
    rig: PushRig, login: Login
) -> None:
    rita = await login("rita")  # granted front
    nina = await login("nina")  # no camera
    ritas, _ = await subscribe_device(rita, rig.receiver, "Rita's phone")
    ninas, _ = await subscribe_device(nina, rig.receiver, "Nina's phone")
    await press_to_push(rig, 1)
    await settle(rig)
    assert len(rig.receiver.messages_for(ritas)) == 1
    assert rig.receiver.messages_for(ninas) == []
    assert rig.receiver.attempts[ninas.sid] == 0  # not even sent


async def test_a_stuck_push_service_holds_up_neither_the_bus_nor_the_next_ring(
    rig: PushRig,
) -> None:
    """The bus subscriber only starts the sends: while the push service sits on the first
    ring, the second camera's ring is already being posted."""
    gate = rig.receiver.hold()
    publish(rig, EventKind.DOORBELL, "front")
    publish(rig, EventKind.DOORBELL, "garden")
    async with asyncio.timeout(10):
        while rig.receiver.attempts[rig.device.sid] < 2:
            await asyncio.sleep(0.02)
    assert rig.receiver.received == []  # both are still held by the push service
    gate.set()
    await settle(rig)
    titles = sorted(m.json()["title"] for m in rig.receiver.messages_for(rig.device))
    assert titles == ["Front door", "Garden"]
    push_stats = {s.name: s for s in rig.app[BUS].stats()}["push"]
    assert (push_stats.dropped, push_stats.errors) == (0, 0)
