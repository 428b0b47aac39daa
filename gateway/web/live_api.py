"""Live view signalling, WHEP-style: POST an SDP offer, get the answer; DELETE to hang up.

Talk is push-to-talk on the same call: POST …/talk opens the camera's speaker and forwards the
microphone the offer carried; DELETE …/talk closes it again.

The page offers, in order: video recvonly, audio recvonly (the camera's sound) and, with a
microphone, audio sendonly (talk). A single sendrecv audio section also works.

A call on a ringing camera answers the ring. For "Answer faster than anyone" the page may
prepare the call while the ring banner shows (`prepare: true` with the `ring_id`): signalling
and ICE complete, media paused; POST …/answer then starts the video at once from the camera's
latest cached keyframe. GET /api/live/calls says who is in a call on a camera.

Like WHEP (RFC 9725) it is one HTTP exchange with the complete offer and answer (no trickle
ICE), but the body is JSON (`{"sdp": …}`) so it passes the same CSRF rules as every other
state change, and the session id comes back in the body rather than a Location header.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.cameras.errors import CameraNotFound, CameraUnavailable
from doorstep.gateway.live import LiveError
from doorstep.gateway.live.answering import participants
from doorstep.gateway.live.viewers import MAX_SDP_BYTES, AlreadyInCall, LiveSession
from doorstep.gateway.web.api import Schema, add_api_route
from doorstep.gateway.web.auth_api import body_of, principal_of
from doorstep.gateway.web.keys import ACCOUNTS, CAMERAS, LIVE, RINGS
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip, session_token

MAX_OFFER_BODY = 3 * MAX_SDP_BYTES  # JSON escaping of "\r\n" can double an SDP's size


RING_ID = r"^[A-Za-z0-9_-]{1,64}$"


class LiveOffer(BaseModel):
    """The browser's SDP offer (complete, with its candidates)."""

    sdp: str = Field(max_length=MAX_SDP_BYTES)
    ring_id: str | None = Field(
        None, pattern=RING_ID, description="The ring this call answers (or is prepared for)."
    )
    prepare: bool = Field(
        False,
        description="Connect now, send no media until POST /api/live/session/{id}/answer. "
        "Needs a ring on the camera (409 otherwise); closed when the ring ends unanswered.",
    )


class LiveAnswer(BaseModel):
    """The gateway's SDP answer and the session to hang up later."""

    session: str
    sdp: str
    talk: bool | None = Field(
        description="Whether the camera has a speaker (None: unknown until Talk is tried)."
    )
    microphone: bool = Field(description="Whether the offer carried a microphone for talk.")
    prepared: bool = Field(False, description="Media paused until the call is answered.")
    ring_id: str | None = Field(None, description="The ring this call answered or waits for.")


class CallAnswered(BaseModel):
    """A prepared call answered: its media started (or had already)."""

    session: str
    started: bool = Field(description="False: it was answered already, nothing changed.")
    ring_id: str | None
    answered_by: str | None = Field(description="Who answered the ring (the first call on it).")


class Participant(BaseModel):
    """A household member in a call, since when."""

    username: str
    since: datetime


class CallView(BaseModel):
    """Who is in a call on one camera (prepared calls are nobody's call yet)."""

    camera_id: str
    participants: list[Participant]
    ring_id: str | None = Field(description="The camera's ring going on now, if any.")


class CallList(BaseModel):
    """The cameras with someone in a call, that this account may see."""

    calls: list[CallView]


class CallsQuery(BaseModel):
    """The filter of GET /api/live/calls (documentation: the handler reads the query itself)."""

    camera_id: str | None = Field(None, description="Only this camera")


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
    stream = cameras.live_stream_name(camera_id)
    try:
        target = cameras.stream_target(camera_id, stream)
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
            camera_id, target, body.sdp, principal.username, still_allowed, client_ip(request),
            auth_session=principal.session, ring_id=body.ring_id, prepare=body.prepare,
            stream=stream,
        )  # fmt: skip
    except AlreadyInCall as exc:
        watcher.close()
        raise _already_in_call(exc) from None
    except LiveError as exc:
        watcher.close()
        status = _STATUSES.get(exc.status, web.HTTPUnprocessableEntity)
        code = "not_ringing" if exc.status == 409 and body.prepare else "live_refused"
        raise json_error(status, code, str(exc)) from None
    except BaseException:
        watcher.close()
        raise
    if not body.prepare and session.id not in request.app[LIVE].sessions:
        # The call ended while it was set up: an offer with no candidate aioice can use fails
        # its checks at once. Answering 201 would hand out a session that no longer exists.
        # (A prepared call closed meanwhile because its ring was answered elsewhere or ended
        # keeps its 201: the page's answer then gets a 404 and it makes a call of its own.)
        watcher.close()
        raise json_error(
            web.HTTPUnprocessableEntity, "call_failed",
            "the connection failed while the call was set up: the offer has no usable candidate",
        )  # fmt: skip
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
        prepared=session.prepared,
        ring_id=session.ring_id,
    )
    return web.json_response(answer.model_dump(), status=201)


def _already_in_call(exc: AlreadyInCall) -> web.HTTPException:
    """409 naming the call this page is in (or prepared) already: keep it, or answer it."""
    body = {
        "error": "already_in_call", "reason": str(exc), "session": exc.session_id,
        "prepared": exc.prepared,
    }  # fmt: skip
    return web.HTTPConflict(text=json.dumps(body), content_type="application/json")


async def answer_live(request: web.Request) -> web.Response:
    """POST /api/live/session/{session_id}/answer: start a prepared call's media (idempotent)."""
    principal = principal_of(request)
    session = _own_session(request)
    if not principal.may_watch_live(session.camera_id):
        raise json_error(web.HTTPNotFound, "no_such_session", "no such live view")
    try:
        session, started = await request.app[LIVE].answer(session.id, principal.username)
    except LiveError:  # it ended meanwhile (its ring ended, or it was hung up)
        raise json_error(web.HTTPNotFound, "no_such_session", "no such live view") from None
    rings = request.app.get(RINGS)
    ring = rings.get(session.ring_id) if rings is not None and session.ring_id else None
    body = CallAnswered(
        session=session.id, started=started, ring_id=session.ring_id,
        answered_by=ring.answered_by if ring is not None else None,
    )  # fmt: skip
    return web.json_response(body.model_dump())


async def list_calls(request: web.Request) -> web.Response:
    """GET /api/live/calls?camera_id=: who is in a call on each camera (household only)."""
    principal = principal_of(request)
    wanted = request.query.get("camera_id")
    if wanted is not None:
        try:
            request.app[CAMERAS].view(wanted, principal.may_see)
        except CameraNotFound:
            raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    live = request.app[LIVE]
    cameras = {s.camera_id for s in live.sessions.values()} if wanted is None else {wanted}
    rings = request.app.get(RINGS)
    views = []
    for camera_id in sorted(c for c in cameras if principal.may_see(c)):
        people = participants(live.sessions.values(), camera_id)
        if not people and wanted is None:
            continue
        ring = rings.current(camera_id) if rings is not None else None
        views.append(CallView(
            camera_id=camera_id,
            participants=[Participant(username=p.username, since=p.since) for p in people],
            ring_id=ring.id if ring is not None else None,
        ))  # fmt: skip
    body = CallList(calls=views)
    return model_response(body, headers={"Cache-Control": "no-store"})


async def stop_live(request: web.Request) -> web.Response:
    """DELETE /api/live/session/{session_id}: hang up (your own sessions only; audited). A call
    of yours that the gateway ended meanwhile is hung up already: that is an answer too."""
    live, session_id = request.app[LIVE], request.match_info["session_id"]
    if session_id not in live.sessions and live.ended.had(
        session_id, principal_of(request).username
    ):
        return web.json_response({"ok": True})
    session = _own_session(request)
    await live.stop(session.id, "hang-up")
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


def add_call_routes(app: web.Application, session_id: Schema) -> None:
    """Register the prepared-call answer and the call participants view."""
    add_api_route(
        app, "POST", "/api/live/session/{session_id}/answer", answer_live,
        access=Access.HOUSEHOLD, summary="Answer a prepared call: its media starts at once",
        response=CallAnswered, path_params={"session_id": session_id}, errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/live/calls", list_calls, access=Access.HOUSEHOLD,
        summary="Who is in a call on each camera", response=CallList, query=CallsQuery,
        errors=(404,),
    )  # fmt: skip
