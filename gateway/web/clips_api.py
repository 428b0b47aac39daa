"""Clips API: list and read recorded clips, play and download them (HTTP Range), and for the
owner hold, release and delete them.

Every route checks the caller's grant on the clip's camera (a clip of a camera the caller may
not see answers 404, as an unknown id does). Clips are addressed by their opaque id only: the
file is the one the database names, resolved under the clip root without following symlinks.
Watching a clip and downloading it are one audit row each, however many Range requests the
player makes.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from datetime import UTC, datetime

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from doorstep.gateway.config.fields import SafeText
from doorstep.gateway.recording.files import UnsafeClipPath, resolve
from doorstep.gateway.recording.poster import POSTER_SUFFIX
from doorstep.gateway.storage import ClipQuery, ClipRecord, Conflict
from doorstep.gateway.web.api import Done, add_api_route
from doorstep.gateway.web.auth_api import body_of, principal_of
from doorstep.gateway.web.guarded_send import WatchedFileResponse
from doorstep.gateway.web.keys import AUDIT, CLIP_RETENTION, STORAGE
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip

CLIP_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
_CLIP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EMPTY_SUFFIX = re.compile(r"^\s*bytes\s*=\s*-0+\s*$")
VIEW_AUDIT_S = 30 * 60.0  # a view of one clip by one account is audited once in this long
VIEW_MEMORY = 10_000
NO_STORE = {"Cache-Control": "no-store"}


class ClipView(BaseModel):
    """One recorded clip, as the UI shows it."""

    id: str
    camera_id: str
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    size_bytes: int
    sha256: str | None
    width: int | None
    height: int | None
    audio: bool
    mode: str
    kinds: list[str]
    held: bool
    recovered: bool = Field(description="Finished after a crash: plays to its last 2 s fragment")
    state: str
    poster: str | None = Field(description="URL of its poster image, if it has one")
    video: str = Field(description="URL of the video (HTTP Range; ?download=1 to save it)")


class ClipList(BaseModel):
    """Newest first; pass `next_before` as `before` for the next page (null: no more)."""

    clips: list[ClipView]
    next_before: datetime | None


class ClipsQuery(BaseModel):
    """The filters of GET /api/clips (documentation: the handler reads the query itself)."""

    camera: list[str] = Field(default_factory=list, description="Only these cameras (repeat it)")
    since: AwareDatetime | None = Field(None, description="Clips ending after this time")
    until: AwareDatetime | None = Field(None, description="Clips starting before this time")
    kind: str | None = Field(None, description="Only clips covering this event kind")
    held: bool | None = Field(None, description="Only held (true) or unheld (false) clips")
    before: AwareDatetime | None = Field(None, description="Started before this (paging)")
    limit: int = Field(50, description="At most this many (clamped to 1..500)")


class HoldBody(BaseModel):
    """A legal hold: why, and until when (none: until released)."""

    reason: SafeText = Field(min_length=1, max_length=500)
    until: AwareDatetime | None = None
    legal: bool = Field(False, description="A legal hold: names its request and an end date.")
    request_id: str | None = Field(None, max_length=64, description="The police request held for.")


def clip_view(clip: ClipRecord) -> ClipView:
    """A clip as the API shows it."""
    base = f"/api/clips/{clip.id}"
    return ClipView(
        id=clip.id, camera_id=clip.camera_id, started_at=clip.started_at, ended_at=clip.ended_at,
        duration_s=clip.duration_ms / 1000, size_bytes=clip.size_bytes, sha256=clip.sha256,
        width=clip.width, height=clip.height, audio=clip.audio_codec is not None,
        mode=clip.mode, kinds=list(clip.kinds), held=clip.held, recovered=clip.recovered,
        state=clip.state, poster=f"{base}/poster" if clip.poster else None, video=f"{base}/video",
    )  # fmt: skip


def _time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", f"{name} is not a time") from None
    if value.tzinfo is None:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", f"{name} needs a time zone")
    return value


async def list_clips(request: web.Request) -> web.Response:
    """GET /api/clips?camera=&since=&until=&kind=&held=&before=&limit=."""
    principal = principal_of(request)
    query = request.query
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "limit is not a number") from None
    held = {"true": True, "false": False}.get(query.get("held", ""))
    cameras: list[str] | None = query.getall("camera", []) or None
    if principal.cameras is not None:
        cameras = [c for c in (cameras or sorted(principal.cameras)) if c in principal.cameras]
    found = await request.app[STORAGE].clips.find(
        ClipQuery(
            cameras=cameras, since=_time(request, "since"), until=_time(request, "until"),
            kind=query.get("kind") or None, held=held, before=_time(request, "before"),
            limit=limit,
        )
    )  # fmt: skip
    page = max(1, min(limit, 500))
    next_before = found[-1].started_at if len(found) == page else None
    return model_response(ClipList(clips=[clip_view(c) for c in found], next_before=next_before))


async def _clip(request: web.Request) -> ClipRecord:
    """The clip the path names, if the caller may see its camera; 404 otherwise."""
    clip_id = request.match_info["clip_id"]
    principal = principal_of(request)
    clip = await request.app[STORAGE].clips.get(clip_id) if _CLIP_ID.match(clip_id) else None
    if (
        clip is None
        or clip.state == "deleting"
        or (principal.cameras is not None and clip.camera_id not in principal.cameras)
    ):
        raise json_error(web.HTTPNotFound, "not_found", "no such clip")
    return clip


async def get_clip(request: web.Request) -> web.Response:
    """GET /api/clips/{clip_id}."""
    return model_response(clip_view(await _clip(request)))


async def _file(request: web.Request, clip: ClipRecord, suffix: str = "") -> WatchedFileResponse:
    root = request.app[CLIP_RETENTION].root
    try:
        path = await asyncio.to_thread(resolve, root, clip.path)
        if suffix:
            path = await asyncio.to_thread(
                resolve, root, path.with_suffix(suffix).relative_to(root).as_posix()
            )
        exists = await asyncio.to_thread(path.is_file)
    except (UnsafeClipPath, ValueError):
        exists = False
    if not exists:
        raise json_error(web.HTTPNotFound, "not_found", "the clip's file is not there")
    if _EMPTY_SUFFIX.match(request.headers.get("Range", "")):
        # "the last 0 bytes" can never be satisfied (RFC 9110 14.1.3); aiohttp sends it all.
        size = (await asyncio.to_thread(path.stat)).st_size
        refused = json_error(web.HTTPRequestRangeNotSatisfiable, "range", "an empty range")
        refused.headers["Content-Range"] = f"bytes */{size}"
        raise refused
    return WatchedFileResponse(path, clip.camera_id, NO_STORE)


async def clip_poster(request: web.Request) -> web.StreamResponse:
    """GET /api/clips/{clip_id}/poster."""
    return await _file(request, await _clip(request), POSTER_SUFFIX)


class _ViewAudit:
    """Remembers which account last watched which clip, so a player's many Range requests
    make one audit row."""

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def first(self, who: str, clip_id: str, action: str) -> bool:
        key, now = (who, clip_id, action), time.monotonic()
        last = self._seen.get(key)
        self._seen[key] = now
        self._seen.move_to_end(key)
        while len(self._seen) > VIEW_MEMORY:
            self._seen.popitem(last=False)
        return last is None or now - last > VIEW_AUDIT_S


_VIEWS = web.AppKey("clip_views", _ViewAudit)


def _download_name(clip: ClipRecord) -> str:
    return f"{clip.camera_id}-{clip.started_at.astimezone(UTC):%Y-%m-%d-%H%M%S}.mp4"


async def clip_video(request: web.Request) -> web.StreamResponse:
    """GET /api/clips/{clip_id}/video: the MP4, with Range (206) for seeking; cut off if the
    caller loses the camera while it is sent."""
    clip = await _clip(request)
    response = await _file(request, clip)
    download = request.query.get("download") == "1"
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{_download_name(clip)}"'
    action = "clip.download" if download else "clip.view"
    principal = principal_of(request)
    try:
        start = request.http_range.start if "Range" in request.headers else 0
    except ValueError:
        start = -1  # a Range nobody can satisfy: answered 416, and not a view
    views = request.app[_VIEWS]
    if start in (0, None) and views.first(principal.username, clip.id, action):
        await request.app[AUDIT].append(
            principal.username, action, f"clip:{clip.id}", ip=client_ip(request),
            detail={"camera": clip.camera_id},
        )  # fmt: skip
    return response


async def hold_clip(request: web.Request) -> web.Response:
    """POST /api/clips/{clip_id}/hold (owner): keep the clip from retention and delete."""
    clip = await _clip(request)
    body = await body_of(request, HoldBody)
    now = datetime.now(UTC)
    if body.until is not None and body.until <= now:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "until must be in the future")
    legal = body.legal or body.request_id is not None
    if legal and body.request_id is None:
        why = "request_id: a legal hold is tied to a police request: give its id"
        raise json_error(web.HTTPUnprocessableEntity, "invalid", why)
    if legal and body.until is None:
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", "until: a legal hold has an end date"
        )
    storage = request.app[STORAGE]
    if body.request_id is not None and await storage.police_requests.get(body.request_id) is None:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "request_id: no such request")
    who = principal_of(request).username
    try:
        await storage.holds.hold(clip.id, body.reason, body.until, who, now,
                                 request_id=body.request_id, legal=legal)  # fmt: skip
    except Conflict:
        raise json_error(web.HTTPNotFound, "not_found", "no such clip") from None
    detail: dict[str, object] = {
        "reason": body.reason, "until": body.until.isoformat() if body.until else None,
    }  # fmt: skip
    if legal:
        detail |= {"legal": True, "request": body.request_id}
    await request.app[AUDIT].append(who, "clip.hold", f"clip:{clip.id}", ip=client_ip(request),
                                    detail=detail)  # fmt: skip
    return model_response(clip_view(await _clip(request)), status=201)


async def release_clip(request: web.Request) -> web.Response:
    """DELETE /api/clips/{clip_id}/hold (owner): release every hold on the clip."""
    clip = await _clip(request)
    who = principal_of(request).username
    released = await request.app[STORAGE].holds.release(clip.id, who, datetime.now(UTC))
    if released:
        await request.app[AUDIT].append(
            who, "clip.release", f"clip:{clip.id}", ip=client_ip(request),
            detail={"holds": released},
        )  # fmt: skip
    return model_response(clip_view(await _clip(request)))


async def delete_clip(request: web.Request) -> web.Response:
    """DELETE /api/clips/{clip_id} (owner): delete a clip that is not held."""
    clip = await _clip(request)
    if clip.held:
        raise json_error(web.HTTPConflict, "held", "the clip is held: release it first")
    who = principal_of(request).username
    deleted = await request.app[CLIP_RETENTION].delete_now([clip], who)
    if not deleted:
        raise json_error(web.HTTPConflict, "held", "the clip was held meanwhile")
    return model_response(Done(ok=True))


def add_clip_routes(app: web.Application) -> None:
    """Register the clips routes."""
    app[_VIEWS] = _ViewAudit()
    one = {"clip_id": CLIP_ID}
    add_api_route(
        app, "GET", "/api/clips", list_clips, access=Access.HOUSEHOLD,
        summary="Recorded clips, newest first", response=ClipList, query=ClipsQuery,
        errors=(422,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/clips/{clip_id}", get_clip, access=Access.HOUSEHOLD,
        summary="One clip", response=ClipView, path_params=one, errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/clips/{clip_id}/poster", clip_poster, access=Access.HOUSEHOLD,
        summary="A clip's poster image", media_type="image/jpeg", path_params=one,
        errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/clips/{clip_id}/video", clip_video, access=Access.HOUSEHOLD,
        summary="A clip's video (MP4; Range requests for seeking)", media_type="video/mp4",
        path_params=one, errors=(404, 416),
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/clips/{clip_id}/hold", hold_clip, access=Access.OWNER,
        summary="Hold a clip (legal hold): never deleted until released", request=HoldBody,
        response=ClipView, status=201, path_params=one, errors=(404, 422),
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/clips/{clip_id}/hold", release_clip, access=Access.OWNER,
        summary="Release a clip's holds", response=ClipView, path_params=one, errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/clips/{clip_id}", delete_clip, access=Access.OWNER,
        summary="Delete a clip that is not held", response=Done, path_params=one,
        errors=(404, 409),
    )  # fmt: skip
