"""Live view signalling, WHEP-style: POST an SDP offer, get the answer; DELETE to hang up.

Like WHEP (RFC 9725) it is one HTTP exchange with the complete offer and answer (no trickle
ICE), but the body is JSON (`{"sdp": …}`) so it passes the same CSRF rules as every other
state change, and the session id comes back in the body rather than a Location header.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from ..live import LiveError
from ..media.hub import StreamTarget
from .auth_api import body_of, principal_of
from .keys import AUDIT, DEVICES, LIVE
from .policy import json_error
from .session import client_ip


class LiveOffer(BaseModel):
    """The browser's SDP offer (complete, with its candidates)."""

    sdp: str = Field(max_length=64 * 1024)


class LiveAnswer(BaseModel):
    """The gateway's SDP answer and the session to hang up later."""

    session: str
    sdp: str


async def start_live(request: web.Request) -> web.Response:
    """POST /api/live/{camera_id}."""
    principal = principal_of(request)
    camera_id = request.match_info["camera_id"]
    supervisor = request.app[DEVICES].supervisors.get(camera_id)
    if supervisor is None or not principal.may_see(camera_id):
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera")
    body = await body_of(request, LiveOffer)
    if not supervisor.streams:
        raise json_error(web.HTTPServiceUnavailable, "no_stream", "the camera offers no stream now")

    def target() -> StreamTarget:
        main = supervisor.streams[0]
        password = main.password.get_secret_value() if main.password else None
        return StreamTarget(main.url, main.username, password)

    try:
        session = await request.app[LIVE].start(camera_id, target, body.sdp, principal.username)
    except LiveError as exc:
        statuses: dict[int, type[web.HTTPException]] = {
            413: web.HTTPRequestEntityTooLarge, 429: web.HTTPTooManyRequests
        }  # fmt: skip
        status = statuses.get(exc.status, web.HTTPUnprocessableEntity)
        raise json_error(status, "live_refused", str(exc)) from None
    await request.app[AUDIT].append(
        principal.username, "live.start", f"camera:{camera_id}", ip=client_ip(request),
        detail={"session": session.id[:8]},
    )  # fmt: skip
    answer = LiveAnswer(session=session.id, sdp=session.pc.localDescription.sdp)
    return web.json_response(answer.model_dump(), status=201)


async def stop_live(request: web.Request) -> web.Response:
    """DELETE /api/live/session/{session_id}: hang up (your own sessions only)."""
    principal = principal_of(request)
    live = request.app[LIVE]
    session = live.sessions.get(request.match_info["session_id"])
    if session is None or session.username != principal.username:
        raise json_error(web.HTTPNotFound, "no_such_session", "no such live view")
    await live.stop(session.id)
    await request.app[AUDIT].append(
        principal.username, "live.stop", f"camera:{session.camera_id}", ip=client_ip(request),
        detail={"session": session.id[:8], "frames": session.track.frames},
    )  # fmt: skip
    return web.json_response({"ok": True})
