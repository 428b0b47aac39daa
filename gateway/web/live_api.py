"""Live view signalling, WHEP-style: POST an SDP offer, get the answer; DELETE to hang up.

Talk is push-to-talk on the same call: POST …/talk opens the camera's speaker and forwards the
microphone the offer carried; DELETE …/talk closes it again.

The page offers, in order: video recvonly, audio recvonly (the camera's sound) and, with a
microphone, audio sendonly (talk). A single sendrecv audio section also works.

Like WHEP (RFC 9725) it is one HTTP exchange with the complete offer and answer (no trickle
ICE), but the body is JSON (`{"sdp": …}`) so it passes the same CSRF rules as every other
state change, and the session id comes back in the body rather than a Location header.
"""

from __future__ import annotations

import time

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.cameras.errors import CameraNotFound, CameraUnavailable
from doorstep.gateway.live import LiveError
from doorstep.gateway.live.viewers import MAX_SDP_BYTES, LiveSession
from doorstep.gateway.web.auth_api import body_of, principal_of
from doorstep.gateway.web.keys import ACCOUNTS, CAMERAS, LIVE
from doorstep.gateway.web.policy import json_error
from doorstep.gateway.web.session import client_ip, session_token

MAX_OFFER_BODY = 3 * MAX_SDP_BYTES  # JSON escaping of "\r\n" can double an SDP's size


class LiveOffer(BaseModel):
    """The browser's SDP offer (complete, with its candidates)."""

    sdp: str = Field(max_length=MAX_SDP_BYTES)


class LiveAnswer(BaseModel):
    """The gateway's SDP answer and the session to hang up later."""

    session: str
    sdp: str
    talk: bool | None = Field(
        description="Whether the camera has a speaker (None: unknown until Talk is tried)."
    )
    microphone: bool = Field(description="Whether the offer carried a microphone for talk.")


class TalkState(BaseModel):
    """Talk opened or closed: the speaker's codec, and what was sent."""

    talking: bool
    codec: str | None = None
    sample_rate: int | None = None
    seconds: float | None = None
    frames: int | None = None
    error: str | None = None
    """Why the camera ended the last talk (the page stops showing "Talking")."""


class IceServerView(BaseModel):
    """One STUN/TURN server as a browser's RTCPeerConnection takes it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServers(BaseModel):
    """What the page passes to `new RTCPeerConnection({iceServers})`."""

    ice_servers: list[IceServerView]


async def ice_servers(request: web.Request) -> web.Response:
    """GET /api/live/ice: the STUN/TURN servers for the page's peer connection.

    The browser gathers its own candidates before sending a complete offer (no trickle), so it
    needs the same servers as the gateway; TURN credentials go to signed-in users only.
    """
    if not principal_of(request).may_go_live:
        raise json_error(web.HTTPForbidden, "not_household", "live view is for the household")
    views = [
        IceServerView(
            urls=[server.urls] if isinstance(server.urls, str) else list(server.urls),
            username=server.username,
            credential=server.credential,
        )
        for server in request.app[LIVE].ice_servers
    ]
    return web.json_response(
        IceServers(ice_servers=views).model_dump(), headers={"Cache-Control": "no-store"}
    )


_STATUSES: dict[int, type[web.HTTPException]] = {
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    413: web.HTTPRequestEntityTooLarge,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}


async def start_live(request: web.Request) -> web.Response:
    """POST /api/live/{camera_id}."""
    principal = principal_of(request)
    camera_id = request.match_info["camera_id"]
    cameras = request.app[CAMERAS]
    try:
        cameras.view(camera_id, principal.may_see)
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    if not principal.may_watch_live(camera_id):
        raise json_error(web.HTTPForbidden, "not_household", "live view is for the household")
    body = await body_of(request, LiveOffer, MAX_OFFER_BODY)
    try:
        target = cameras.stream_target(camera_id)
    except CameraNotFound:  # removed while the offer was read
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    except CameraUnavailable as exc:
        raise json_error(web.HTTPServiceUnavailable, "no_stream", str(exc)) from None
    accounts, token = request.app[ACCOUNTS], session_token(request)

    async def still_allowed() -> bool:
        current = await accounts.principal_for(token)
        return current is not None and current.may_watch_live(camera_id)

    # Watching starts before the call does: a change while the offer is answered counts too.
    watcher = accounts.changes.watch(principal.user_id)
    try:
        session = await request.app[LIVE].start(
            camera_id, target, body.sdp, principal.username, still_allowed, client_ip(request)
        )
    except LiveError as exc:
        watcher.close()
        status = _STATUSES.get(exc.status, web.HTTPUnprocessableEntity)
        raise json_error(status, "live_refused", str(exc)) from None
    except BaseException:
        watcher.close()
        raise
    request.app[LIVE].follow(session.id, watcher)
    try:
        talk = cameras.talk(camera_id)
    except CameraNotFound:  # removed while the call was set up
        talk = False
    answer = LiveAnswer(
        session=session.id,
        sdp=session.pc.localDescription.sdp,
        talk=talk,
        microphone=session.mic is not None,
    )
    return web.json_response(answer.model_dump(), status=201)


async def stop_live(request: web.Request) -> web.Response:
    """DELETE /api/live/session/{session_id}: hang up (your own sessions only; audited)."""
    session = _own_session(request)
    await request.app[LIVE].stop(session.id, "hang-up")
    return web.json_response({"ok": True})


def _own_session(request: web.Request) -> LiveSession:
    principal = principal_of(request)
    session = request.app[LIVE].sessions.get(request.match_info["session_id"])
    if session is None or session.username != principal.username:
        raise json_error(web.HTTPNotFound, "no_such_session", "no such live view")
    return session


async def start_talk(request: web.Request) -> web.Response:
    """POST /api/live/session/{session_id}/talk: open the speaker (push-to-talk pressed)."""
    session = _own_session(request)
    try:
        opener = request.app[CAMERAS].talk_opener(session.camera_id)
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    try:
        talk = await request.app[LIVE].press_talk(session.id, opener)
    except LiveError as exc:
        status = _STATUSES.get(exc.status, web.HTTPUnprocessableEntity)
        raise json_error(status, "talk_refused", str(exc)) from None
    state = TalkState(talking=True, codec=talk.sink.codec, sample_rate=talk.sink.sample_rate)
    return web.json_response(state.model_dump(), status=201)


async def talk_state(request: web.Request) -> web.Response:
    """GET /api/live/session/{session_id}/talk: is the speaker still open (the page polls it
    while Talk is held, so a camera that drops the talk does not leave it showing "Talking")."""
    mic = _own_session(request).mic
    talk = mic.talk if mic is not None else None
    if talk is None:
        failure = mic.failure if mic is not None else None
        return web.json_response(TalkState(talking=False, error=failure).model_dump())
    state = TalkState(
        talking=True,
        codec=talk.sink.codec,
        sample_rate=talk.sink.sample_rate,
        seconds=round(time.monotonic() - talk.started, 2),
        frames=talk.frames,
    )
    return web.json_response(state.model_dump())


async def stop_talk(request: web.Request) -> web.Response:
    """DELETE /api/live/session/{session_id}/talk: close the speaker (push-to-talk released)."""
    session = _own_session(request)
    talk = await request.app[LIVE].release_talk(session.id)
    if talk is None:
        return web.json_response(TalkState(talking=False).model_dump())
    state = TalkState(
        talking=False,
        codec=talk.sink.codec,
        seconds=round(time.monotonic() - talk.started, 2),
        frames=talk.frames,
    )
    return web.json_response(state.model_dump())
