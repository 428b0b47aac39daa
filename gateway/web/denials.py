"""Audits refused requests without letting a scanner fill the disk, and without crying wolf.

Every page load of a signed-out browser asks GET /api/session "am I signed in?" and gets a 401:
that is the page finding out, not someone being refused, and writing it as `access.denied` made
the owner's log look like an attack every time a visitor opened the sign-in page. Such a probe
is left out when the request carries no session cookie at all. A probe that does carry one (a
session that expired, was revoked or was guessed) is still counted: a stale cookie is how a
signed-out user, or someone replaying a stolen cookie, shows up, and that is worth the owner's
eye. Every other refused request is counted as before, cookie or not.
"""

from __future__ import annotations

from aiohttp import web

from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth import Principal
from doorstep.gateway.web.session import COOKIE, SECURE_COOKIE

SESSION_PROBE = "/api/session"
_PROBE_METHODS = frozenset({"GET", "HEAD"})


def _has_session_cookie(request: web.Request) -> bool:
    try:
        cookies = request.cookies
    except (ValueError, KeyError):  # a cookie header the standard library cannot read
        return True  # something was sent: count it
    return COOKIE in cookies or SECURE_COOKIE in cookies


def is_routine_probe(request: web.Request, principal: Principal | None, status: int) -> bool:
    """A signed-out page's "am I signed in?" with no session cookie: not a denial."""
    return (
        principal is None
        and status == 401
        and request.method in _PROBE_METHODS
        and request.path == SESSION_PROBE
        and not _has_session_cookie(request)
    )


class DenialAuditor:
    """Counts every refused request into the refusal audit: one `access.denied` row per address,
    status and minute, with a count and the first paths tried (routine probes left out)."""

    def __init__(self, refusals: RefusalAudit) -> None:
        self._refusals = refusals

    async def __call__(
        self, request: web.Request, principal: Principal | None, status: int, reason: str
    ) -> None:
        if is_routine_probe(request, principal, status):
            return
        self._refusals.record(
            principal.username if principal else "anonymous", "access.denied", str(status),
            request.remote or "", f"{request.method} {request.path[:200]}",
        )  # fmt: skip
