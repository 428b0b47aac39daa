"""Answer while already in that call does nothing harmful: a page that answers a ring twice
(a double tap, two tabs of one sign-in) gets a 409 naming the call it is in, and no second
call; answering a prepared call twice is a no-op; a burst from one page opens one call."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiortc import RTCPeerConnection

from doorstep.gateway.web.keys import LIVE
from doorstep.simulator import SimulatedDevice

from ..gateway_client import call
from ..live.conftest import offer, signed_in
from .helpers import audited, ring


async def test_answering_a_ring_twice_from_one_page_keeps_the_one_call(
    aiohttp_client: Any, household: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    rita = await signed_in(aiohttp_client, household, "rita")
    the_ring = await ring(app, doorbell)
    _, sdp = await offer(peers)
    body = {"sdp": sdp, "ring_id": the_ring.id}
    status, first = await call(rita, "POST", "/api/live/front", body)
    assert status == 201, first
    _, sdp = await offer(peers)
    status, again = await call(
        rita, "POST", "/api/live/front", {"sdp": sdp, "ring_id": the_ring.id}
    )
    assert (status, again) == (409, {
        "error": "already_in_call", "reason": "this page is in that call already",
        "session": first["session"], "prepared": False,
    })  # fmt: skip
    assert list(app[LIVE].sessions) == [first["session"]]
    assert the_ring.answered_by == "rita"
    assert the_ring.state == "answered"
    # Preparing the ring it is in the call for: the same answer.
    status, again = await call(
        rita, "POST", "/api/live/front", {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    )
    assert (status, again["session"]) == (409, first["session"])
    # Another person (or another sign-in) joins the call; the ring stays rita's.
    rosa = await signed_in(aiohttp_client, household, "rosa")
    status, joined = await call(
        rosa, "POST", "/api/live/front", {"sdp": sdp, "ring_id": the_ring.id}
    )
    assert status == 201, joined
    assert the_ring.answered_by == "rita"
    status, calls = await call(rosa, "GET", "/api/live/calls?camera_id=front")
    assert [p["username"] for p in calls["calls"][0]["participants"]] == ["rita", "rosa"]
    starts = [a for a, _ in await audited(app, "rita") if a == "live.start"]
    assert starts == ["live.start"]


async def test_a_prepared_call_answered_twice_starts_once(
    aiohttp_client: Any, household: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    rita = await signed_in(aiohttp_client, household, "rita")
    the_ring = await ring(app, doorbell)
    _, sdp = await offer(peers)
    prepare = {"sdp": sdp, "ring_id": the_ring.id, "prepare": True}
    status, prepared = await call(rita, "POST", "/api/live/front", prepare)
    assert status == 201, prepared
    status, again = await call(rita, "POST", "/api/live/front", prepare)
    assert (status, again["error"], again["session"], again["prepared"]) == (
        409, "already_in_call", prepared["session"], True,
    )  # fmt: skip
    # The page taps Answer twice.
    path = f"/api/live/session/{prepared['session']}/answer"
    first, second = await asyncio.gather(call(rita, "POST", path), call(rita, "POST", path))
    assert sorted([first[1]["started"], second[1]["started"]]) == [False, True]
    assert first[0] == second[0] == 200
    # ...and its old code path posts a fresh offer for the ring too: still the one call.
    _, sdp = await offer(peers)
    status, again = await call(
        rita, "POST", "/api/live/front", {"sdp": sdp, "ring_id": the_ring.id}
    )
    assert (status, again["session"], again["prepared"]) == (409, prepared["session"], False)
    assert list(app[LIVE].sessions) == [prepared["session"]]
    actions = [a for a, _ in await audited(app, "rita") if a.startswith("live.")]
    assert actions == ["live.prepared", "live.start"]
    # Someone else's prepared call cannot be answered by her.
    rosa = await signed_in(aiohttp_client, household, "rosa")
    status, body = await call(rosa, "POST", path)
    assert (status, body["error"]) == (404, "no_such_session")


async def test_a_burst_of_answers_from_one_page_opens_one_call(
    aiohttp_client: Any, household: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    rita = await signed_in(aiohttp_client, household, "rita")
    the_ring = await ring(app, doorbell)
    bodies = [{"sdp": (await offer(peers))[1], "ring_id": the_ring.id} for _ in range(4)]
    bodies += [{**body, "prepare": True} for body in bodies[:2]]
    results = await asyncio.gather(*(call(rita, "POST", "/api/live/front", b) for b in bodies))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 5, results
    assert len(app[LIVE].sessions) == 1
    assert {body["error"] for status, body in results if status == 409} == {"already_in_call"}
