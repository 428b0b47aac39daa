"""Rings on the event stream, through a gateway with the simulated doorbell: a press reaches
every device of everyone granted the camera and nobody else; a page opened mid-ring gets the
ring first; the answer ("Answered by rita") and the end reach them all."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aiohttp import web
from aiortc import RTCPeerConnection

from doorstep.simulator import SimulatedDevice

from ..gateway_client import call
from ..live.conftest import offer, signed_in
from .helpers import Stream, open_stream, ring, until


def states(messages: list[dict[str, Any]]) -> list[str]:
    return [m["state"] for m in messages]


async def until_state(stream: Stream, state: str) -> None:
    """Wait for the stream to carry a ring message in that state."""
    await until(lambda: state in states(stream.rings()))


async def test_a_ring_reaches_everyone_granted_the_camera_and_the_answer_too(
    aiohttp_client: Any, household: Any, app: web.Application, peers: list[RTCPeerConnection],
    doorbell: SimulatedDevice,
) -> None:  # fmt: skip
    clients = {name: await signed_in(aiohttp_client, household, name) for name in
               ("rita", "rosa", "nina")}  # fmt: skip
    streams = {name: await open_stream(client) for name, client in clients.items()}
    the_ring = await ring(app, doorbell)
    await until(lambda: streams["rita"].rings() and streams["rosa"].rings())
    for name in ("rita", "rosa"):
        message = streams[name].rings()[0]
        assert message == {
            "ring_id": the_ring.id, "camera_id": "front", "state": "ringing",
            "started_at": message["started_at"], "answered_by": None, "answered_at": None,
            "reason": None,
        }, name  # fmt: skip
        assert datetime.fromisoformat(message["started_at"]) == the_ring.started_at
    status, listed = await call(clients["rosa"], "GET", "/api/rings")
    assert (status, [r["ring_id"] for r in listed["rings"]]) == (200, [the_ring.id])
    assert await call(clients["nina"], "GET", "/api/rings") == (200, {"rings": []})

    # A phone that opens the app mid-ring shows the banner: the ring comes first.
    late_phone = await signed_in(aiohttp_client, household, "rosa")
    late = await open_stream(late_phone)
    await until(late.rings)
    assert late.rings()[0]["ring_id"] == the_ring.id
    assert late.rings()[0]["state"] == "ringing"

    # Rita answers from her banner: every other device can say so and drop the banner.
    _, sdp = await offer(peers)
    status, answer = await call(
        clients["rita"], "POST", "/api/live/front", {"sdp": sdp, "ring_id": the_ring.id}
    )
    assert status == 201, answer
    assert (answer["ring_id"], answer["prepared"]) == (the_ring.id, False)
    for stream in (streams["rita"], streams["rosa"], late):
        await until_state(stream, "answered")
        answered = next(m for m in stream.rings() if m["state"] == "answered")
        assert (answered["ring_id"], answered["answered_by"]) == (the_ring.id, "rita")
        assert answered["answered_at"] is not None
    status, calls = await call(clients["rosa"], "GET", "/api/live/calls?camera_id=front")
    assert status == 200
    assert [p["username"] for p in calls["calls"][0]["participants"]] == ["rita"]
    assert calls["calls"][0]["ring_id"] == the_ring.id

    # She hangs up: the ring is over everywhere.
    status, _ = await call(clients["rita"], "DELETE", f"/api/live/session/{answer['session']}")
    assert status == 200
    for stream in (streams["rita"], streams["rosa"], late):
        await until_state(stream, "ended")
        assert states(stream.rings()) == ["ringing", "answered", "ended"]
        assert stream.rings()[-1]["reason"] == "answered_call_ended"
    assert await call(clients["rosa"], "GET", "/api/rings") == (200, {"rings": []})
    # Nina was not given the doorbell: nothing of it reached her (her stream is still open).
    await asyncio.sleep(0.5)
    assert streams["nina"].rings() == []
    assert streams["nina"].task is not None
    assert not streams["nina"].task.done()
    status, body = await call(clients["nina"], "GET", "/api/live/calls?camera_id=front")
    assert (status, body["error"]) == (404, "no_such_camera")
    for stream in (*streams.values(), late):
        stream.close()
