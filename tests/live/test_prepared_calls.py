"""Prepared calls ("Answer faster than anyone"), with aiortc as the browser and the simulated
doorbell as the camera: a call prepared while the doorbell rings connects but sends nothing;
Answer starts it at once from a keyframe; a prepared call nobody answers is closed with its
ring; caps, revocation and a page that answers twice hold for prepared calls too."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

from doorstep.gateway.live.caps import CallCaps
from doorstep.gateway.live.viewers import MAX_SESSIONS_PER_USER
from doorstep.gateway.web.keys import ACCOUNTS, LIVE, RINGS
from doorstep.simulator import SimulatedDevice

from ..gateway_client import call
from ..ringing.clock import FakeClock
from ..ringing.helpers import audited, ring, until, until_audited
from .conftest import PASSWORD, offer, signed_in
from .test_live_revocation import CONSOLE, ENDINGS, WITHIN_S


async def packets_received(pc: RTCPeerConnection) -> int:
    """RTP packets the viewer received, over all its tracks."""
    total = 0
    for receiver in pc.getReceivers():
        report = await receiver.getStats()
        total += sum(s.packetsReceived for s in report.values() if s.type == "inbound-rtp")
    return total


async def test_a_prepared_call_sends_nothing_until_answered_then_starts_at_a_keyframe(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    rita = await signed_in(aiohttp_client, server, "rita")
    the_ring = await ring(app, doorbell)
    pc, sdp = await offer(peers)
    tracks: list[Any] = []
    pc.on("track", tracks.append)
    body = {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    status, answer = await call(rita, "POST", "/api/live/front", body)
    assert status == 201, answer
    assert (answer["prepared"], answer["ring_id"]) == (True, the_ring.id)
    session = app[LIVE].sessions[answer["session"]]
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    await until(lambda: pc.connectionState == "connected", 15)  # signalling and ICE are done
    hold = session.hold
    assert hold is not None
    await until(lambda: hold.discarded >= 30, 15)  # the camera's stream is open and flowing
    assert await packets_received(pc) == 0  # ...and none of it reached the viewer
    assert session.track.frames == 0
    assert the_ring.answered_by is None  # preparing is not answering
    status, calls = await call(rita, "GET", "/api/live/calls?camera_id=front")
    assert (status, calls["calls"][0]["participants"]) == (200, [])  # nobody's call yet

    status, answered = await call(rita, "POST", f"/api/live/session/{answer['session']}/answer")
    assert status == 200, answered
    assert answered == {
        "session": answer["session"], "started": True, "ring_id": the_ring.id,
        "answered_by": "rita",
    }  # fmt: skip
    video = next(t for t in tracks if t.kind == "video")
    frame = await asyncio.wait_for(video.recv(), 15)  # it arrives (its latency is bench/live.py's)
    assert frame.key_frame  # decodable at once: the hub's cached keyframe came first
    assert session.track.first_keyframe is True
    assert (frame.width, frame.height) == (640, 360)
    assert the_ring.answered_by == "rita"
    status, calls = await call(rita, "GET", "/api/live/calls?camera_id=front")
    assert [p["username"] for p in calls["calls"][0]["participants"]] == ["rita"]

    actions = [(a, d) for a, d in await audited(app, "rita") if a.startswith("live.")]
    short = answer["session"][:8]
    assert actions == [
        ("live.prepared", {"session": short, "ring": the_ring.id[:8]}),
        ("live.start", {"session": short, "prepared": True, "ring": the_ring.id[:8]}),
    ]


async def test_a_prepared_call_nobody_answers_is_closed_when_its_ring_ends(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    clock = FakeClock()
    app[RINGS].clock = clock.ring_clock()
    rita = await signed_in(aiohttp_client, server, "rita")
    the_ring = await ring(app, doorbell)
    await clock.advance(30)  # the banner has been up for half the ring time
    _, sdp = await offer(peers)
    body = {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    status, answer = await call(rita, "POST", "/api/live/front", body)
    assert status == 201, answer
    session = app[LIVE].sessions[answer["session"]]
    await clock.advance(app[RINGS].ring_s - 30)  # a ring time after the press: it ends
    assert the_ring.state == "ended"
    await until(lambda: session.pc.connectionState == "closed")
    assert answer["session"] not in app[LIVE].sessions
    await until_audited(app, "rita", ("live.stop", {
        "session": answer["session"][:8], "frames": 0, "reason": "ring ended", "prepared": True,
    }))  # fmt: skip
    status, body = await call(rita, "POST", f"/api/live/session/{answer['session']}/answer")
    assert (status, body["error"]) == (404, "no_such_session")
    # And no preparing for a ring that is over.
    _, sdp = await offer(peers)
    body = {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    status, refused = await call(rita, "POST", "/api/live/front", body)
    assert (status, refused["error"]) == (409, "not_ringing")


async def test_a_prepared_call_of_a_ring_someone_else_answered_ends_at_the_ring_time(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    clock = FakeClock()
    app[RINGS].clock = clock.ring_clock()
    rita = await signed_in(aiohttp_client, server, "rita")
    rita_phone = await signed_in(aiohttp_client, server, "rita")
    the_ring = await ring(app, doorbell)
    _, sdp = await offer(peers)
    status, prepared = await call(
        rita_phone, "POST", "/api/live/front", {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    )
    assert status == 201, prepared
    _, sdp = await offer(peers)
    status, answered = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201, answered
    assert answered["ring_id"] == the_ring.id  # a call on a ringing camera answers its ring
    assert the_ring.answered_by == "rita"
    await clock.advance(app[RINGS].ring_s)
    await until(lambda: prepared["session"] not in app[LIVE].sessions)
    assert answered["session"] in app[LIVE].sessions  # the call goes on, the ring with it
    assert app[RINGS].get(the_ring.id) is the_ring
    await until_audited(app, "rita", ("live.stop", {
        "session": prepared["session"][:8], "frames": 0, "reason": "not answered",
        "prepared": True,
    }))  # fmt: skip


async def test_a_burst_of_prepares_cannot_overrun_the_caps(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    the_ring = await ring(app, doorbell)
    # Rita on more devices than her cap, each preparing at once.
    devices = [
        await signed_in(aiohttp_client, server, "rita") for _ in range(MAX_SESSIONS_PER_USER + 3)
    ]
    bodies = [
        {"sdp": (await offer(peers))[1], "ring_id": the_ring.id, "prepare": True} for _ in devices
    ]
    results = await asyncio.gather(
        *(
            call(device, "POST", "/api/live/front", body)
            for device, body in zip(devices, bodies, strict=True)
        )
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * MAX_SESSIONS_PER_USER + [429] * 3, statuses
    assert len(app[LIVE].sessions) == MAX_SESSIONS_PER_USER

    # The camera's cap, across accounts (made small here): past it, prepares are refused too.
    for session_id in list(app[LIVE].sessions):
        await app[LIVE].stop(session_id)
    app[LIVE].caps = CallCaps(per_user=MAX_SESSIONS_PER_USER, per_camera=5)
    accounts = app[ACCOUNTS]
    rosa = await accounts.create_user(CONSOLE, "rosa", PASSWORD, "resident", "test")
    await accounts.update_user(CONSOLE, rosa.id, None, None, {"front"}, "test")
    devices = [await signed_in(aiohttp_client, server, n) for n in ["rita"] * 4 + ["rosa"] * 4]
    bodies = [
        {"sdp": (await offer(peers))[1], "ring_id": the_ring.id, "prepare": True} for _ in devices
    ]
    results = await asyncio.gather(
        *(
            call(device, "POST", "/api/live/front", body)
            for device, body in zip(devices, bodies, strict=True)
        )
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 5 + [429] * 3, statuses
    assert len(app[LIVE].sessions) == 5
    refused = {body["reason"] for status, body in results if status == 429}
    assert refused == {"too many live views of this camera are open; try again later"}


@pytest.mark.parametrize("way", sorted(ENDINGS))
async def test_a_prepared_call_ends_within_a_second_when_access_ends(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice, way: str,
) -> None:  # fmt: skip
    rita = await signed_in(aiohttp_client, server, "rita")
    the_ring = await ring(app, doorbell)
    _, sdp = await offer(peers)
    body = {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    status, answer = await call(rita, "POST", "/api/live/front", body)
    assert status == 201
    session = app[LIVE].sessions[answer["session"]]
    assert session.prepared
    user = next(u for u, _ in await app[ACCOUNTS].list_users() if u.username == "rita")
    await ENDINGS[way](app, rita, user.id)
    ended = time.monotonic()
    while session.pc.connectionState != "closed" and time.monotonic() - ended < 5:
        await asyncio.sleep(0.02)
    assert answer["session"] not in app[LIVE].sessions
    assert session.pc.connectionState == "closed"
    assert time.monotonic() - ended < WITHIN_S
