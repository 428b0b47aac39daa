"""Shares API, the owner's side: create a share from clips (or a time range of one camera),
list, revoke, extend and delete them, preview their copies, set the home's location."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from doorstep.gateway.auth.totp import qr_code
from doorstep.gateway.config.fields import SafeText
from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.sharing.places import InvalidLocation
from doorstep.gateway.sharing.service import ShareEnded, ShareNotFound, ShareState
from doorstep.gateway.sharing.specs import ItemSpec, NewShare, ShareRefused
from doorstep.gateway.storage import ClipQuery
from doorstep.gateway.web.api import Done, add_api_route
from doorstep.gateway.web.auth_api import body_of, principal_of
from doorstep.gateway.web.keys import SHARES, STORAGE
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip
from doorstep.gateway.web.share_views import (
    CreatedShare,
    LinkView,
    ShareList,
    ShareView,
    share_view,
)

SHARE_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
POSITION = {"type": "string", "pattern": "^[0-9]{1,2}$"}
NO_STORE = {"Cache-Control": "no-store"}
Category = Literal["package_theft", "suspicious_activity", "lost_pet", "vehicle", "other"]


class MaskBody(BaseModel):
    """A rectangle drawn on the poster, in fractions of the picture (0..1)."""

    x: float = Field(ge=0, lt=1)
    y: float = Field(ge=0, lt=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)
    style: Literal["black", "blur"] = "black"


class ItemBody(BaseModel):
    """One clip to share, optionally trimmed (seconds from its start) and masked."""

    clip_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    start_s: float = Field(0, ge=0)
    end_s: float | None = Field(None, gt=0)
    exact: bool = Field(False, description="Cut exactly (re-encodes) rather than at a keyframe")
    masks: list[MaskBody] = Field(default_factory=list, max_length=8)


class RangeBody(BaseModel):
    """A time range of one camera: every clip in it, each trimmed to it."""

    camera_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    start: AwareDatetime
    end: AwareDatetime
    masks: list[MaskBody] = Field(default_factory=list, max_length=8)


class NewShareBody(BaseModel):
    """A new share: what, to whom, for how long."""

    title: SafeText = Field(min_length=1, max_length=120)
    description: SafeText = Field("", max_length=2000)
    category: Category
    items: list[ItemBody] = Field(default_factory=list, max_length=10)
    range: RangeBody | None = None
    audio: bool = Field(False, description="Keep the sound (off by default)")
    expires_in_days: float = Field(7, ge=1 / 24, le=30)
    view_limit: int | None = Field(None, ge=1, le=100_000)
    link: bool = Field(True, description="Make a link anyone holding it can watch")
    recipients: list[int] = Field(default_factory=list, max_length=100)
    household: SafeText | None = Field(None, max_length=80)


class ExtendBody(BaseModel):
    """A new expiry, counted from now."""

    expires_in_days: float = Field(ge=1 / 24, le=30)


class LocationBody(BaseModel):
    """The home's location (stays in Settings) and the label shares show with its cell."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    label: SafeText = Field("", max_length=80)


class LocationView(BaseModel):
    """The home's location, for the owner's Settings only; shares carry only `cell`."""

    set: bool
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""
    cell: str | None = None


def _masks(masks: list[MaskBody]) -> tuple[Mask, ...]:
    return tuple(Mask(m.x, m.y, m.w, m.h, m.style) for m in masks)


async def _range_items(request: web.Request, body: RangeBody) -> list[ItemSpec]:
    if body.end <= body.start:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "range: it ends before it starts")
    if body.end - body.start > timedelta(minutes=30):
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "range: at most 30 minutes")
    clips = await request.app[STORAGE].clips.find(
        ClipQuery(cameras=[body.camera_id], since=body.start, until=body.end, limit=10)
    )
    items = []
    for clip in sorted(clips, key=lambda c: c.started_at):
        start_ms = max(0, round((body.start - clip.started_at).total_seconds() * 1000))
        end_ms = round((body.end - clip.started_at).total_seconds() * 1000)
        end = None if end_ms >= clip.duration_ms else end_ms
        items.append(ItemSpec(clip.id, start_ms, end, False, _masks(body.masks)))
    if not items:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "range: no clips in that time")
    return items


async def _names(request: web.Request) -> dict[int, str]:
    return {u.id: u.username for u in await request.app[STORAGE].users.list()}


async def _view(request: web.Request, state: ShareState, accesses: bool = False) -> ShareView:
    shares = request.app[SHARES]
    found = await request.app[STORAGE].shares.accesses(state.record.id) if accesses else None
    return share_view(state, shares.progress(state), await _names(request), found)


def _refused(exc: ShareRefused) -> web.HTTPException:
    return json_error(web.HTTPUnprocessableEntity, "invalid", f"{exc.field}: {exc.reason}")


async def create_share(request: web.Request) -> web.Response:
    """POST /api/shares: make a share; its link (if any) is in this answer only."""
    body = await body_of(request, NewShareBody)
    items = [
        ItemSpec(i.clip_id, round(i.start_s * 1000),
                 None if i.end_s is None else round(i.end_s * 1000), i.exact, _masks(i.masks))
        for i in body.items
    ]  # fmt: skip
    if body.range is not None:
        items += await _range_items(request, body.range)
    new = NewShare(
        title=body.title.strip(), category=body.category, items=tuple(items),
        description=body.description.strip(), audio=body.audio,
        expires_in=timedelta(days=body.expires_in_days), view_limit=body.view_limit,
        link=body.link, recipients=frozenset(body.recipients),
        household=(body.household or "").strip() or None,
    )  # fmt: skip
    principal = principal_of(request)
    try:
        state, token = await request.app[SHARES].create(new, principal.username, client_ip(request))
    except ShareRefused as exc:
        raise _refused(exc) from None
    link = None
    if token is not None:
        url = f"{request.scheme}://{request.host}/s/{token}"
        _, data_uri = await asyncio.to_thread(qr_code, url)
        link = LinkView(url=url, qr_data_uri=data_uri)
    return model_response(CreatedShare(share=await _view(request, state), link=link), status=201)


async def list_shares(request: web.Request) -> web.Response:
    """GET /api/shares."""
    states = await request.app[SHARES].newest()
    names = await _names(request)
    shares = request.app[SHARES]
    views = [share_view(s, shares.progress(s), names) for s in states]
    return model_response(ShareList(shares=views))


async def _share(request: web.Request) -> ShareState:
    state = await request.app[SHARES].get(request.match_info["share_id"])
    if state is None:
        raise json_error(web.HTTPNotFound, "not_found", "no such share")
    return state


async def get_share(request: web.Request) -> web.Response:
    """GET /api/shares/{share_id}: with its views and downloads."""
    return model_response(await _view(request, await _share(request), accesses=True))


async def _change(request: web.Request, action: str) -> web.Response:
    shares, share_id = request.app[SHARES], request.match_info["share_id"]
    who, ip = principal_of(request).username, client_ip(request)
    try:
        if action == "revoke":
            state = await shares.revoke(share_id, who, ip)
        else:
            body = await body_of(request, ExtendBody)
            state = await shares.extend(share_id, body.expires_in_days, who, ip)
    except ShareNotFound:
        raise json_error(web.HTTPNotFound, "not_found", "no such share") from None
    except ShareEnded:
        raise json_error(web.HTTPConflict, "ended", "the share has ended; make a new one") from None
    except ShareRefused as exc:
        raise _refused(exc) from None
    return model_response(await _view(request, state, accesses=True))


async def revoke_share(request: web.Request) -> web.Response:
    """POST /api/shares/{share_id}/revoke: end it now (the next request of a viewer fails)."""
    return await _change(request, "revoke")


async def extend_share(request: web.Request) -> web.Response:
    """POST /api/shares/{share_id}/extend: a new expiry from now."""
    return await _change(request, "extend")


async def delete_share(request: web.Request) -> web.Response:
    """DELETE /api/shares/{share_id}: forget it and delete its copies."""
    try:
        await request.app[SHARES].delete(
            request.match_info["share_id"], principal_of(request).username, client_ip(request)
        )
    except ShareNotFound:
        raise json_error(web.HTTPNotFound, "not_found", "no such share") from None
    return model_response(Done(ok=True))


async def share_file(request: web.Request) -> web.StreamResponse:
    """GET /api/shares/{share_id}/items/{position}/{video|poster}: the owner's preview."""
    state = await _share(request)
    position = int(request.match_info["position"])
    item = next((i for i in state.items if i.position == position and i.file), None)
    if item is None or item.file is None or state.record.files_removed:
        raise json_error(web.HTTPNotFound, "not_found", "no such copy")
    video = request.path.endswith("/video")
    name = item.file if video else item.file.removesuffix(".mp4") + ".jpg"
    try:
        path = await request.app[SHARES].file(name)
    except ShareNotFound:
        raise json_error(web.HTTPNotFound, "not_found", "no such copy") from None
    return web.FileResponse(path, headers=NO_STORE)


async def get_location(request: web.Request) -> web.Response:
    """GET /api/sharing/location (owner): the home's location and its cell."""
    home = await request.app[SHARES].places.home()
    if home is None:
        return model_response(LocationView(set=False))
    return model_response(LocationView(set=True, latitude=home.latitude, longitude=home.longitude,
                                       label=home.label, cell=home.cell))  # fmt: skip


async def put_location(request: web.Request) -> web.Response:
    """PUT /api/sharing/location (owner): set it; shares made from now carry its cell."""
    body = await body_of(request, LocationBody)
    try:
        home = await request.app[SHARES].places.set_home(
            body.latitude, body.longitude, body.label, principal_of(request).username,
            client_ip(request),
        )  # fmt: skip
    except InvalidLocation as exc:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", str(exc)) from None
    return model_response(LocationView(set=True, latitude=home.latitude, longitude=home.longitude,
                                       label=home.label, cell=home.cell))  # fmt: skip


def add_share_routes(app: web.Application) -> None:
    """Register the owner's share routes."""
    owner, one = Access.OWNER, {"share_id": SHARE_ID}
    add_api_route(app, "GET", "/api/shares", list_shares, access=owner,
                  summary="Shares, newest first", response=ShareList)  # fmt: skip
    add_api_route(app, "POST", "/api/shares", create_share, access=owner,
                  summary="Share clips: a link and/or neighbour accounts (the link is shown once)",
                  request=NewShareBody, response=CreatedShare, status=201,
                  errors=(422,))  # fmt: skip
    add_api_route(app, "GET", "/api/shares/{share_id}", get_share, access=owner,
                  summary="One share, with its views and downloads", response=ShareView,
                  path_params=one, errors=(404,))  # fmt: skip
    add_api_route(app, "POST", "/api/shares/{share_id}/revoke", revoke_share, access=owner,
                  summary="End a share now", response=ShareView, path_params=one,
                  errors=(404, 409))  # fmt: skip
    add_api_route(app, "POST", "/api/shares/{share_id}/extend", extend_share, access=owner,
                  summary="Give an open share a new expiry", request=ExtendBody,
                  response=ShareView, path_params=one, errors=(404, 409, 422))  # fmt: skip
    add_api_route(app, "DELETE", "/api/shares/{share_id}", delete_share, access=owner,
                  summary="Delete a share and its copies", response=Done, path_params=one,
                  errors=(404,))  # fmt: skip
    for kind, media in (("video", "video/mp4"), ("poster", "image/jpeg")):
        add_api_route(app, "GET", f"/api/shares/{{share_id}}/items/{{position}}/{kind}",
                      share_file, access=owner, summary=f"A shared copy's {kind} (preview)",
                      media_type=media, path_params={**one, "position": POSITION},
                      errors=(404,))  # fmt: skip
    add_api_route(app, "GET", "/api/sharing/location", get_location, access=owner,
                  summary="The home's location (Settings only)", response=LocationView)  # fmt: skip
    add_api_route(app, "PUT", "/api/sharing/location", put_location, access=owner,
                  summary="Set the home's location; shares carry only its coarse cell",
                  request=LocationBody, response=LocationView, errors=(422,))  # fmt: skip
