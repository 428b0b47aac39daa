"""The live-view API with aiortc as the viewer (a real WebRTC peer on loopback): video arrives
as H.264, and every cap and ownership rule answers with a status and a reason."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import AuthError, Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.live.viewers import MAX_CANDIDATE_LINES, MAX_SESSIONS_PER_USER
from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.web.keys import ACCOUNTS, DATABASE, LIVE
from doorstep.simulator import Simulator

from ..gateway_client import SAME_ORIGIN, Client, call
from .conftest import PASSWORD, offer, signed_in


async def test_an_aiortc_viewer_receives_the_doorbells_h264(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    rita = await signed_in(aiohttp_client, server, "rita")
    pc, sdp = await offer(peers)
    tracks: list[Any] = []
    pc.on("track", tracks.append)
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201, answer
    assert answer["talk"] is True
    assert answer["microphone"] is False  # this viewer offered none
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    video = next(t for t in tracks if t.kind == "video")
    frame = await asyncio.wait_for(video.recv(), 15)
    assert (frame.width, frame.height) == (640, 360)
    assert "H264" in answer["sdp"]
    assert "VP8" not in answer["sdp"]  # passthrough: nothing the camera does not send
    status, talk = await call(rita, "GET", f"/api/live/session/{answer['session']}/talk")
    assert (status, talk["talking"]) == (200, False)
    status, _ = await call(rita, "POST", f"/api/live/session/{answer['session']}/talk")
    assert status == 409  # no microphone in this call: said, not failed silently
    assert await call(rita, "DELETE", f"/api/live/session/{answer['session']}") == (
        200, {"ok": True},
    )  # fmt: skip
    assert app[LIVE].sessions == {}


async def test_caps_on_the_offer_refuse_with_a_reason(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    rita = await signed_in(aiohttp_client, server, "rita")
    _, sdp = await offer(peers)
    huge = sdp + "a=x-padding:" + "x" * (64 * 1024) + "\r\n"
    status, body = await call(rita, "POST", "/api/live/front", {"sdp": huge})
    assert status == 422
    assert "sdp" in body["reason"]
    candidate = next(line for line in sdp.splitlines() if line.startswith("a=candidate"))
    flood = sdp + "\r\n".join([candidate] * (MAX_CANDIDATE_LINES + 1)) + "\r\n"
    status, body = await call(rita, "POST", "/api/live/front", {"sdp": flood})
    assert (status, body["reason"]) == (413, "the offer has too many candidates")
    status, body = await call(rita, "POST", "/api/live/front", {"sdp": "v=0\r\nnonsense"})
    assert status == 422
    assert body["error"] == "live_refused"
    audio_only = "\r\n".join(
        line for line in sdp.splitlines() if not line.startswith("m=video")
    ).replace("m=video", "m=audio")
    no_video = sdp.replace("m=video", "m=text")
    for bad in (no_video, audio_only):
        status, body = await call(rita, "POST", "/api/live/front", {"sdp": bad})
        assert status == 422, body
    assert app[LIVE].sessions == {}  # nothing half-made lingers


async def test_per_user_cap_and_ownership(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    rita = await signed_in(aiohttp_client, server, "rita")
    nina = await signed_in(aiohttp_client, server, "nina")
    sessions = []
    for _ in range(MAX_SESSIONS_PER_USER):
        _, sdp = await offer(peers)
        status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
        assert status == 201, answer
        sessions.append(answer["session"])
    _, sdp = await offer(peers)
    status, body = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert (status, body["reason"]) == (429, "too many live views open; hang one up first")

    # Someone else's call: not found, whatever the verb; the call is untouched.
    theirs = sessions[0]
    for method, path in (("DELETE", f"/api/live/session/{theirs}"),
                         ("GET", f"/api/live/session/{theirs}/talk"),
                         ("POST", f"/api/live/session/{theirs}/talk"),
                         ("DELETE", f"/api/live/session/{theirs}/talk")):  # fmt: skip
        status, body = await call(nina, method, path)
        assert (status, body["error"]) == (404, "no_such_session"), (method, path)
    assert theirs in app[LIVE].sessions
    # A camera she has not been given does not exist for her.
    status, body = await call(nina, "POST", "/api/live/front", {"sdp": sdp})
    assert (status, body["error"]) == (404, "no_such_camera")
    # Signed out: no access at all.
    anonymous: Client = await aiohttp_client(server)
    status, _ = await call(anonymous, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 401

    # Hanging one up makes room again.
    assert (await call(rita, "DELETE", f"/api/live/session/{theirs}"))[0] == 200
    # Hanging up again (a page's hang-up crossing the gateway's own end of the call) is done,
    # not unknown; to anyone else the ended call stays unknown.
    assert await call(rita, "DELETE", f"/api/live/session/{theirs}") == (200, {"ok": True})
    status, body = await call(nina, "DELETE", f"/api/live/session/{theirs}")
    assert (status, body["error"]) == (404, "no_such_session")
    status, _ = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201


async def test_the_page_gets_the_configured_ice_servers_when_signed_in(
    aiohttp_client: Any, tmp_path: Path, aiohttp_server: Any
) -> None:
    config = Config.model_validate({
        "storage": {"data_dir": tmp_path / "data"},
        "live": {"ice_servers": [
            "stun:stun.example.net:3478",
            {"urls": "turn:turn.example.net:3478?transport=udp", "username": "doorstep",
             "credential": "turn secret"},
        ]},
    })  # fmt: skip
    app: web.Application = await asyncio.to_thread(build_app, config)
    server = await aiohttp_server(app)
    anonymous: Client = await aiohttp_client(server)
    assert (await call(anonymous, "GET", "/api/live/ice"))[0] == 401
    console = Principal(0, "console", "owner")
    await app[ACCOUNTS].create_user(console, "rita", PASSWORD, "resident", "test")
    rita = await signed_in(aiohttp_client, server, "rita")
    async with rita.get("/api/live/ice", headers=SAME_ORIGIN) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
    assert body == {"ice_servers": [
        {"urls": ["stun:stun.example.net:3478"], "username": None, "credential": None},
        {"urls": ["turn:turn.example.net:3478?transport=udp"], "username": "doorstep",
         "credential": "turn secret"},
    ]}  # fmt: skip
    # The gateway's own peer connections use the same servers.
    assert [s.urls for s in app[LIVE].ice_servers] == [
        ["stun:stun.example.net:3478"], ["turn:turn.example.net:3478?transport=udp"],
    ]  # fmt: skip


async def test_shutdown_closes_every_call_and_audits_it(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    rita = await signed_in(aiohttp_client, server, "rita")
    _, sdp = await offer(peers)
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201
    session = app[LIVE].sessions[answer["session"]]
    database = app[DATABASE].path
    await server.close()  # the gateway shuts down (its cleanup runs)
    assert session.pc.connectionState == "closed"
    assert app[LIVE].sessions == {}

    def audited() -> list[tuple[str, dict[str, Any]]]:
        with contextlib.closing(sqlite3.connect(database)) as db:
            rows = db.execute("SELECT action, detail FROM audit WHERE actor = 'rita'").fetchall()
        return [(action, json.loads(detail)) for action, detail in rows]

    assert ("live.stop", {"session": answer["session"][:8], "frames": session.track.frames,
                          "reason": "shutdown"}) in await asyncio.to_thread(audited)  # fmt: skip


async def test_live_view_is_for_the_household_only(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    accounts = app[ACCOUNTS]
    console = Principal(0, "console", "owner")
    ned = await accounts.create_user(console, "ned", PASSWORD, "neighbour", "test")
    with pytest.raises(AuthError, match="cannot be given cameras"):  # no grant for the role
        await accounts.update_user(console, ned.id, None, None, {"front"}, "test")
    neighbour = await signed_in(aiohttp_client, server, "ned")
    _, sdp = await offer(peers)
    status, body = await call(neighbour, "POST", "/api/live/front", {"sdp": sdp})
    assert (status, body["error"]) == (403, "household_only")
    status, body = await call(neighbour, "GET", "/api/live/ice")
    assert (status, body["error"]) == (403, "household_only")

    # A resident made a neighbour mid-call loses the call at once (not at the next re-check).
    rita = await signed_in(aiohttp_client, server, "rita")
    status, answer = await call(rita, "POST", "/api/live/front", {"sdp": sdp})
    assert status == 201
    user = next(u for u, _ in await accounts.list_users() if u.username == "rita")
    await accounts.update_user(console, user.id, "neighbour", None, None, "test")
    for _ in range(10):
        if answer["session"] not in app[LIVE].sessions:
            break
        await asyncio.sleep(0.1)
    assert answer["session"] not in app[LIVE].sessions
    grants = {u.username: g for u, g in await accounts.list_users()}
    assert grants["rita"] == set()  # the role change dropped the grant too


async def test_offers_all_at_once_cannot_overrun_the_per_user_cap(
    aiohttp_client: Any, server: Any, app: web.Application, peers: list[RTCPeerConnection]
) -> None:
    rita = await signed_in(aiohttp_client, server, "rita")
    offers = [(await offer(peers))[1] for _ in range(MAX_SESSIONS_PER_USER + 3)]
    results = await asyncio.gather(
        *(call(rita, "POST", "/api/live/front", {"sdp": sdp}) for sdp in offers)
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * MAX_SESSIONS_PER_USER + [429] * 3, statuses
    assert len(app[LIVE].sessions) == MAX_SESSIONS_PER_USER


async def test_an_offer_aiortc_cannot_answer_leaves_nothing_open(
    aiohttp_client: Any,
    server: Any,
    app: web.Application,
    peers: list[RTCPeerConnection],
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_module, "LINGER_S", 0.2)
    rita = await signed_in(aiohttp_client, server, "rita")
    _, sdp = await offer(peers)
    # No H.264 in the offer (a browser without it): no codec in common.
    h264 = {m.group(1) for m in re.finditer(r"a=rtpmap:(\d+) H264/", sdp)}
    vp8_only = "\n".join(
        line for line in sdp.splitlines() if not any(f":{pt} " in line for pt in h264)
    )
    vp8_only = re.sub(r"(m=video \d+ \S+)((?: \d+)+)", lambda m: m.group(1) + " " + " ".join(
        pt for pt in m.group(2).split() if pt not in h264), vp8_only)  # fmt: skip
    status, body = await call(rita, "POST", "/api/live/front", {"sdp": vp8_only})
    assert status == 422, body
    assert body["reason"].startswith("unusable offer")
    assert app[LIVE].sessions == {}
    doorbell = simulator.devices["doorbell-1"]
    for _ in range(50):  # the stream it started lingers briefly, then closes
        if doorbell._rtsp.active_sessions == 0:
            break
        await asyncio.sleep(0.1)
    assert doorbell._rtsp.active_sessions == 0
    # And two microphone sections are refused before anything opens.
    pc = RTCPeerConnection()
    peers.append(pc)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="sendonly")
    pc.addTransceiver("audio", direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    status, body = await call(rita, "POST", "/api/live/front", {"sdp": pc.localDescription.sdp})
    assert (status, body["reason"]) == (422, "the offer has more media than a live view uses")
