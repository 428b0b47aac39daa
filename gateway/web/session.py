"""Session cookies: how a browser carries its sign-in, and turning it back into a principal."""

from __future__ import annotations

import re

from aiohttp import web

from doorstep.gateway.auth import Principal
from doorstep.gateway.auth.devices import COOKIE as DEVICE_COOKIE
from doorstep.gateway.auth.devices import MAX_AGE_S as DEVICE_MAX_AGE_S
from doorstep.gateway.web.keys import ACCOUNTS

COOKIE = "doorstep_session"
SECURE_COOKIE = "__Host-doorstep_session"  # the __Host- prefix needs Secure, so TLS only
MAX_AGE_S = 30 * 24 * 3600  # the server also expires idle sessions after 24 h


def client_ip(request: web.Request) -> str:
    """The peer address. X-Forwarded-For is never trusted: no proxy is configured."""
    return request.remote or ""


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What `secrets.token_urlsafe` makes; anything else in the cookie is no session."""


def session_token(request: web.Request) -> str:
    """The session token the browser sent, if it is one (a malformed cookie is no session)."""
    try:
        token = request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE) or ""
    except (ValueError, KeyError):  # a cookie header the standard library cannot read
        return ""
    return token if _TOKEN.fullmatch(token) else ""


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """HttpOnly, SameSite=Strict, path /; Secure with the __Host- name over TLS."""
    name = SECURE_COOKIE if request.secure else COOKIE
    response.set_cookie(
        name,
        token,
        max_age=MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def device_cookie(request: web.Request) -> str | None:
    """The browser's known-device cookie, if it sent one."""
    return request.cookies.get(DEVICE_COOKIE)


def set_device_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    """Remember this browser as one that signed in (sent only to the sign-in route)."""
    if value:
        response.set_cookie(
            DEVICE_COOKIE, value, max_age=DEVICE_MAX_AGE_S, path="/api/session",
            httponly=True, samesite="Strict", secure=request.secure,
        )  # fmt: skip


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Tell the browser to forget its session."""
    for name in (COOKIE, SECURE_COOKIE):
        if name in request.cookies:
            response.del_cookie(name, path="/")


async def session_authenticator(request: web.Request) -> Principal | None:
    """The account behind the request's session cookie."""
    token = session_token(request)
    if not token:
        return None
    return await request.app[ACCOUNTS].principal_for(token)
