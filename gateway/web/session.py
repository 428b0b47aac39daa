"""Session cookies: how a browser carries its sign-in, and turning it back into a principal."""

from __future__ import annotations

from aiohttp import web

from ..auth import Principal
from .keys import ACCOUNTS

COOKIE = "doorstep_session"
SECURE_COOKIE = "__Host-doorstep_session"  # the __Host- prefix needs Secure, so TLS only
MAX_AGE_S = 30 * 24 * 3600  # the server also expires idle sessions after 24 h


def client_ip(request: web.Request) -> str:
    """The peer address. X-Forwarded-For is never trusted: no proxy is configured."""
    return request.remote or ""


def session_token(request: web.Request) -> str:
    """The session token the browser sent, if any."""
    return request.cookies.get(SECURE_COOKIE) or request.cookies.get(COOKIE) or ""


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
