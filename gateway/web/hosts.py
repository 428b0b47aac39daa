"""Host header check: only names this box is known by, so DNS rebinding cannot reach it.

A page on an attacker's site can make its own domain resolve to the gateway's LAN address; the
browser then sends requests to Doorstep with the attacker's name in `Host`. IP literals (which a
user types, and rebinding cannot produce), localhost, this machine's own name and configured
names are accepted; anything else gets 421 before any route runs.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp import web

from doorstep.gateway.web.policy import Handler, json_error

ALLOWED_HOSTS = web.AppKey("allowed_hosts", frozenset[str])


def known_names(configured: Iterable[str]) -> frozenset[str]:
    """The host names accepted in `Host` (lower case, without port)."""
    own = socket.gethostname().lower()
    names = {"localhost", own, f"{own}.local", *(n.lower().rstrip(".") for n in configured)}
    return frozenset(n for n in names if n)


def _host_name(header: str) -> str:
    """The name or address in a Host header, without the port and brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    name, _, _ = header.partition(":")
    return name.rstrip(".")


def host_allowed(header: str | None, names: frozenset[str]) -> bool:
    """Whether a request naming this host may be served."""
    if not header:
        return False
    host = _host_name(header)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host in names or host.endswith(".localhost")
    return True


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests for host names this gateway is not known by."""
    names = request.app.get(ALLOWED_HOSTS)
    if names is not None and not host_allowed(request.headers.get("Host"), names):
        raise json_error(
            web.HTTPMisdirectedRequest,
            "unknown_host",
            "this gateway does not answer to that host name; add it to server.hostnames",
        )
    return await handler(request)
