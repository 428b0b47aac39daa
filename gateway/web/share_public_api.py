"""Watching a share: by its link (no account: `/s/{token}`) or as a neighbour account (the
"Shared with me" feed). Opening a share counts a view and gives its player a key for the media.

A link that cannot be watched, for whatever reason (unknown, expired, revoked, view limit
reached, a request sent from another site), gets the same 404 with the same body, and the
token never reaches a log line. Every answer is `no-store`, `no-referrer` and same-origin only.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from doorstep.gateway.sharing.client_info import coarse_client
from doorstep.gateway.sharing.service import Opened, ShareNotFound, ShareState
from doorstep.gateway.sharing.tokens import token_hash
from doorstep.gateway.storage import ShareItemRecord
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import principal_of
from doorstep.gateway.web.keys import ACCOUNTS, SHARES
from doorstep.gateway.web.policy import Access, allow, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip, session_token
from doorstep.gateway.web.share_limits import ShareLimits
from doorstep.gateway.web.share_send import ShareFileResponse
from doorstep.gateway.web.share_views import PublicShare, SharedFeed, feed_entry, public_view

SHARE_LIMITS = web.AppKey("share_limits", ShareLimits)
SHARE_PAGE = web.AppKey("share_page", Path)
AccountChange = Callable[[], Awaitable[None]]
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}
_GONE = json.dumps({"error": "not_found", "reason": "this share does not exist or has ended"})
TOKEN = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The link's token"}
VIEW = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$",
        "description": "The key the share's opening gave its player"}  # fmt: skip
POSITION = {"type": "string", "pattern": "^[0-9]{1,2}$"}
SHARE_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}


def _gone() -> web.HTTPNotFound:
    return web.HTTPNotFound(text=_GONE, content_type="application/json", headers=PUBLIC_HEADERS)


def _from_elsewhere(request: web.Request) -> bool:
    """A request our share page did not make: it sends no Referer and is same-origin."""
    site = request.headers.get("Sec-Fetch-Site")
    return "Referer" in request.headers or site in ("cross-site", "same-site")


def _refuse(request: web.Request) -> web.HTTPNotFound:
    ip = client_ip(request)
    request.app[SHARE_LIMITS].refused(ip)
    request.app[SHARES].refused(ip)
    return _gone()


async def _by_link(request: web.Request) -> ShareState:
    """The share the path's token opens, within the limits; the same 404 otherwise."""
    token = request.match_info["token"]
    if not request.app[SHARE_LIMITS].allow(client_ip(request), token_hash(token)):
        raise json_error(web.HTTPTooManyRequests, "too_many", "too many requests; try again "
                         "in a minute", {"Retry-After": "60", **PUBLIC_HEADERS})  # fmt: skip
    try:
        state = await request.app[SHARES].by_token(token)
    except ShareNotFound:
        raise _refuse(request) from None
    if _from_elsewhere(request):
        raise _refuse(request)
    return state


def _client(request: web.Request) -> str:
    return coarse_client(request.headers.get("User-Agent", ""))


async def _opened(request: web.Request, state: ShareState, via: str, account: str | None,
                  base: str) -> web.Response:  # fmt: skip
    if state.status == "preparing":
        return model_response(public_view(state, None), headers=PUBLIC_HEADERS)
    try:
        opened: Opened = await request.app[SHARES].open(
            state, via, account, _client(request), client_ip(request)
        )
    except ShareNotFound:
        raise (_refuse(request) if via == "link" else _gone()) from None
    view = public_view(opened.state, f"{base}/{opened.view_key}")
    return model_response(view, headers=PUBLIC_HEADERS)


async def open_link(request: web.Request) -> web.Response:
    """GET /api/s/{token}: the share, and its media URLs for this view (counts a view)."""
    state = await _by_link(request)
    return await _opened(request, state, "link", None, f"/api/s/{request.match_info['token']}")


class ShareRecheck:
    """Whether a send may go on: the share is still open and the view still counted."""

    def __init__(self, request: web.Request, state: ShareState, view_key: str, position: int,
                 by_account: bool) -> None:  # fmt: skip
        self._request, self._state, self._key = request, state, view_key
        self._position, self._by_account = position, by_account

    async def __call__(self) -> bool:
        shares = self._request.app[SHARES]
        try:
            if self._by_account:
                current = await self._request.app[ACCOUNTS].principal_for(
                    session_token(self._request)
                )
                if current is None or current.role != "neighbour":
                    return False
                state = await shares.for_account(current.user_id, self._state.record.id)
            else:
                state = await shares.by_token(self._request.match_info["token"])
            await shares.media(state, self._key, self._position)
        except ShareNotFound:
            return False
        return True


async def _send(
    request: web.Request, state: ShareState, item: ShareItemRecord, recheck: ShareRecheck,
    via: str, account: str | None, account_change: AccountChange | None = None,
) -> web.StreamResponse:  # fmt: skip
    shares = request.app[SHARES]
    video = request.path.endswith("/video")
    relative = item.file if video and item.file else (item.file or "").removesuffix(".mp4") + ".jpg"
    try:
        path = await shares.file(relative)
    except ShareNotFound:
        raise _gone() from None
    headers = dict(PUBLIC_HEADERS)
    if video and request.query.get("download") == "1":
        name = f"shared-clip-{item.position + 1}.mp4"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        try:
            first = request.http_range.start in (0, None)
        except ValueError:
            first = False
        if first:
            await shares.downloaded(state, via, account, _client(request), client_ip(request))
    return ShareFileResponse(path, headers, state.record.id, shares.watch, recheck,
                             state.record.expires_at, shares.clock.now, account_change)  # fmt: skip


async def link_media(request: web.Request) -> web.StreamResponse:
    """GET /api/s/{token}/{view}/{position}/video|poster (Range; ?download=1 to save it)."""
    state = await _by_link(request)
    position = int(request.match_info["position"])
    try:
        item = await request.app[SHARES].media(state, request.match_info["view"], position)
    except ShareNotFound:
        raise _refuse(request) from None
    recheck = ShareRecheck(request, state, request.match_info["view"], position, False)
    return await _send(request, state, item, recheck, "link", None)


async def shared_feed(request: web.Request) -> web.Response:
    """GET /api/shared (neighbours): the shares addressed to this account."""
    states = await request.app[SHARES].shared_with(principal_of(request).user_id)
    feed = SharedFeed(shares=[feed_entry(s) for s in states])
    return model_response(feed, headers=PUBLIC_HEADERS)


async def _for_me(request: web.Request) -> ShareState:
    try:
        return await request.app[SHARES].for_account(
            principal_of(request).user_id, request.match_info["share_id"]
        )
    except ShareNotFound:
        raise _gone() from None


async def open_shared(request: web.Request) -> web.Response:
    """GET /api/shared/{share_id} (neighbours): open one share (counts a view)."""
    state = await _for_me(request)
    share_id = request.match_info["share_id"]
    return await _opened(request, state, "account", principal_of(request).username,
                         f"/api/shared/{share_id}")  # fmt: skip


async def shared_media(request: web.Request) -> web.StreamResponse:
    """GET /api/shared/{share_id}/{view}/{position}/video|poster (neighbours)."""
    state = await _for_me(request)
    position = int(request.match_info["position"])
    try:
        item = await request.app[SHARES].media(state, request.match_info["view"], position)
    except ShareNotFound:
        raise _gone() from None
    principal = principal_of(request)
    recheck = ShareRecheck(request, state, request.match_info["view"], position, True)
    changes = request.app[ACCOUNTS].changes

    async def account_changed() -> None:
        # The send runs after this handler returns: each wait holds its own watcher while it
        # waits (one made here would be closed before the first byte went out).
        with changes.watch(principal.user_id) as watcher:
            await watcher.wait()

    return await _send(request, state, item, recheck, "account", principal.username,
                       account_changed)  # fmt: skip


async def share_page(request: web.Request) -> web.FileResponse:
    """GET /s/{token}: the share page (static; it reads its token from its own address)."""
    return web.FileResponse(request.app[SHARE_PAGE], headers=PUBLIC_HEADERS)


def add_public_share_routes(app: web.Application, page: Path) -> None:
    """Register the share page (the file `page`), the link routes and the neighbours' feed."""
    app[SHARE_LIMITS], app[SHARE_PAGE] = ShareLimits(), page
    app.router.add_get("/s/{token}", share_page)
    allow(app, "GET", "/s/{token}", Access.PUBLIC)
    allow(app, "HEAD", "/s/{token}", Access.PUBLIC)
    add_api_route(app, "GET", "/api/s/{token}", open_link, access=Access.PUBLIC,
                  summary="Open a shared link: the share and its media for this view",
                  response=PublicShare, path_params={"token": TOKEN},
                  errors=(404, 429))  # fmt: skip
    media = {"token": TOKEN, "view": VIEW, "position": POSITION}
    for kind, media_type in (("video", "video/mp4"), ("poster", "image/jpeg")):
        add_api_route(app, "GET", f"/api/s/{{token}}/{{view}}/{{position}}/{kind}", link_media,
                      access=Access.PUBLIC, summary=f"A shared clip's {kind} (by link)",
                      media_type=media_type, path_params=media,
                      errors=(404, 416, 429))  # fmt: skip
    neighbour = Access.NEIGHBOUR
    add_api_route(app, "GET", "/api/shared", shared_feed, access=neighbour,
                  summary="Shared with me: the shares addressed to this account",
                  response=SharedFeed)  # fmt: skip
    add_api_route(app, "GET", "/api/shared/{share_id}", open_shared, access=neighbour,
                  summary="Open a share addressed to me (counts a view)", response=PublicShare,
                  path_params={"share_id": SHARE_ID}, errors=(404,))  # fmt: skip
    mine = {"share_id": SHARE_ID, "view": VIEW, "position": POSITION}
    for kind, media_type in (("video", "video/mp4"), ("poster", "image/jpeg")):
        add_api_route(app, "GET", f"/api/shared/{{share_id}}/{{view}}/{{position}}/{kind}",
                      shared_media, access=neighbour,
                      summary=f"A clip's {kind} of a share addressed to me",
                      media_type=media_type, path_params=mine,
                      errors=(404, 416))  # fmt: skip
