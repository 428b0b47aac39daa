"""Default-deny access control: every route declares who may call it, or nobody can."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import NoReturn

from aiohttp import web

from doorstep.gateway.auth.principal import HOUSEHOLD_ROLES, REQUEST_ROLES, Principal

_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Access(StrEnum):
    """Who may call a route."""

    PUBLIC = "public"
    """Anyone who can reach the port: only the page shell, health and the API description."""
    SIGNED_IN = "signed_in"
    """Any signed-in account, whatever its role (its own session, password, second factor)."""
    HOUSEHOLD = "household"
    """The owner and residents: cameras, snapshots, events, live view. Neighbours and agencies
    never reach these routes, whatever grants they might hold."""
    OWNER = "owner"
    """The household owner only."""
    NEIGHBOUR = "neighbour"
    """Neighbour accounts only: the shares addressed to them, nothing of the household's."""
    AGENCY = "agency"
    """Agency accounts only: their own footage requests and what the owner granted, never a
    camera, an event or live video."""


_ROLES_FOR = {
    Access.HOUSEHOLD: HOUSEHOLD_ROLES,
    Access.OWNER: frozenset({"owner"}),
    Access.NEIGHBOUR: frozenset({"neighbour"}),
    Access.AGENCY: frozenset({"agency"}),
}
# An agency learns nothing from what it may not reach, not even that a route or an id exists:
# every such answer is the agency API's one 404 (and the refusal is audited as any other).
_HIDDEN_FROM = REQUEST_ROLES
NOT_FOUND = ("not_found", "not found")
_REFUSALS = {
    Access.OWNER: ("owner_only", "owner only"),
    Access.NEIGHBOUR: ("neighbour_only", "only neighbour accounts receive shares"),
    Access.AGENCY: ("agency_only", "only agency accounts send footage requests"),
}


Authenticator = Callable[[web.Request], Awaitable[Principal | None]]

POLICIES = web.AppKey("policies", dict[tuple[str, str], Access])
AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator")
"""Resolves a request's session to a principal (sign-in arrives with the accounts issue)."""
PRINCIPAL = web.RequestKey("principal", Principal)
"""The signed-in caller, set on requests to non-public routes."""
"""(method, resource canonical path) → access, filled as routes are added."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


REAUTH = web.AppKey("reauth", set[tuple[str, str]])
"""Security-sensitive routes: the session must have proved the password in the last minutes."""


def allow(
    app: web.Application, method: str, path: str, access: Access, *, reauth: bool = False
) -> None:
    """Declare the policy of a route (static resources use their prefix as path)."""
    app.setdefault(POLICIES, {})[(method.upper(), path)] = access
    if reauth:
        app.setdefault(REAUTH, set()).add((method.upper(), path))


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


TOTP_EXEMPT = web.AppKey("totp_exempt", set[tuple[str, str]])
"""Routes an owner/agency without a second factor, or an account whose password the owner reset,
may still use (to set one up, choose a password, or sign out)."""
DenialHook = Callable[[web.Request, Principal | None, int, str], Awaitable[None]]
ON_DENIED: web.AppKey[DenialHook] = web.AppKey("on_denied")
"""Called for every refused request (the audit log records them)."""


def json_error(
    exc: type[web.HTTPException], code: str, reason: str, headers: dict[str, str] | None = None
) -> web.HTTPException:
    """An HTTP error whose JSON body carries a stable `error` code for the UI."""
    body = json.dumps({"error": code, "reason": reason})
    if issubclass(exc, web.HTTPRequestEntityTooLarge):
        # aiohttp's 413 insists on the sizes for its own message; the JSON reason says it here.
        return web.HTTPRequestEntityTooLarge(
            0, 0, text=body, content_type="application/json", headers=headers
        )
    return exc(text=body, content_type="application/json", headers=headers)


async def _refuse(
    request: web.Request, principal: Principal | None, error: web.HTTPException
) -> NoReturn:
    hook = request.app.get(ON_DENIED)
    if hook is not None:
        await hook(request, principal, error.status, error.reason)
    raise error


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests the route's policy does not allow, and cross-site state changes."""
    if request.match_info.http_exception is not None:
        return await handler(request)  # 404 / 405: nothing to protect, nothing revealed
    access = _policy_for(request)
    if access is None:
        _log.error("route %s %s has no access policy; refused", request.method, request.path)
        await _refuse(
            request, None, json_error(web.HTTPForbidden, "no_policy", "route has no access policy")
        )
    if request.method not in _SAFE_METHODS:
        if not _same_origin(request):
            await _refuse(
                request,
                None,
                json_error(web.HTTPForbidden, "cross_site", "cross-site request refused"),
            )
        if request.content_type != "application/json":
            raise json_error(
                web.HTTPUnsupportedMediaType, "json_only", "state changes take a JSON body"
            )
    if access is not Access.PUBLIC:
        authenticate = request.app.get(AUTHENTICATOR)
        principal = await authenticate(request) if authenticate is not None else None
        if principal is None:
            await _refuse(
                request, None, json_error(web.HTTPUnauthorized, "signed_out", "sign-in required")
            )
        allowed_roles = _ROLES_FOR.get(access)
        if allowed_roles is not None and principal.role not in allowed_roles:
            if principal.role in _HIDDEN_FROM:
                await _refuse(request, principal, json_error(web.HTTPNotFound, *NOT_FOUND))
            code, reason = _REFUSALS.get(
                access, ("household_only", "only the household (owner and residents) may do this")
            )
            await _refuse(request, principal, json_error(web.HTTPForbidden, code, reason))
        route = (
            request.method,
            request.match_info.route.resource.canonical
            if request.match_info.route.resource
            else "",
        )
        if principal.must_enroll_totp and route not in request.app.get(TOTP_EXEMPT, set()):
            raise json_error(
                web.HTTPForbidden, "totp_enrollment_required", "set up a second factor first"
            )
        if principal.must_change_password and route not in request.app.get(TOTP_EXEMPT, set()):
            raise json_error(
                web.HTTPForbidden, "password_change_required", "choose a new password first"
            )
        if route in request.app.get(REAUTH, set()) and not principal.recently_confirmed:
            raise json_error(
                web.HTTPForbidden,
                "reauth_required",
                "enter your password again to make this change",
            )
        request[PRINCIPAL] = principal
    return await handler(request)
