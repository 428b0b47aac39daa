"""Default-deny access control: every route declares who may call it, or nobody can."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web

_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Access(StrEnum):
    """Who may call a route."""

    PUBLIC = "public"
    """Anyone who can reach the port: only the page shell, health and the API description."""
    SIGNED_IN = "signed_in"
    """Any signed-in account (accounts arrive with the web UI issue; until then nobody)."""
    OWNER = "owner"
    """The household owner only."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account and its role."""

    user_id: int
    username: str
    role: str


Authenticator = Callable[[web.Request], Awaitable[Principal | None]]

POLICIES = web.AppKey("policies", dict[tuple[str, str], Access])
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator")
"""Resolves a request's session to a principal (sign-in arrives with the accounts issue)."""
PRINCIPAL = web.RequestKey("principal", Principal)
"""The signed-in caller, set on requests to non-public routes."""
"""(method, resource canonical path) → access, filled as routes are added."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allow(app: web.Application, method: str, path: str, access: Access) -> None:
    """Declare the policy of a route (static resources use their prefix as path)."""
    app.setdefault(POLICIES, {})[(method.upper(), path)] = access


def _policy_for(request: web.Request) -> Access | None:
    route = request.match_info.route
    resource = route.resource
    if resource is None:
        return None
    return request.app[POLICIES].get((request.method, resource.canonical))


def _same_origin(request: web.Request) -> bool:
    """True when the browser says the request comes from our own pages (CSRF defence)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser-initiated cross-site request (curl, scripts)
    return origin == f"{request.scheme}://{request.host}"


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests the route's policy does not allow, and cross-site state changes."""
    if request.match_info.http_exception is not None:
        return await handler(request)  # 404 / 405: nothing to protect, nothing revealed
    access = _policy_for(request)
    if access is None:
        _log.error("route %s %s has no access policy; refused", request.method, request.path)
        raise web.HTTPForbidden(reason="route has no access policy")
    if request.method not in _SAFE_METHODS:
        if not _same_origin(request):
            raise web.HTTPForbidden(reason="cross-site request refused")
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(reason="state changes take a JSON body")
    if access is not Access.PUBLIC:
        authenticate = request.app.get(AUTHENTICATOR)
        principal = await authenticate(request) if authenticate is not None else None
        if principal is None:
            raise web.HTTPUnauthorized(reason="sign-in required")
        if access is Access.OWNER and principal.role != "owner":
            raise web.HTTPForbidden(reason="owner only")
        request[PRINCIPAL] = principal
    return await handler(request)
