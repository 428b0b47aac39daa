"""What the web server answers and logs when a request goes wrong: never a traceback for input.

- A client that goes away mid-body is not an error of ours: one DEBUG line.
- A bug (an exception no handler meant to raise) answers a JSON 500 and logs its traceback, at
  most once a minute per route and exception type, so no client can flood the log with them.
- Requests aiohttp's own parser refuses (bad bytes in the URL, oversized headers) are logged as
  one line without the raw request, rate-limited, instead of aiohttp's traceback.
- Every response, errors and aiohttp's own included, carries the security headers.
- aiohttp's own refusals (no such route, a method the route does not take, a body too large)
  answer the same JSON error shape as the handlers' (`{"error": …, "reason": …}`).
"""

from __future__ import annotations

import json
import logging
import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from doorstep.gateway.web.policy import Handler

_log = logging.getLogger(__name__)

IMPORT_MAP_HASH = "'sha256-mojbLlMB2DMeP7+eDrhDuyYEFt/b4ExB44CTUeU+VT4='"
"""The one inline script allowed: webui/index.html's import map (an import map cannot be an
external file). tests/web/test_ui_assets.py checks it against the file, so an edit cannot drift."""
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'self'; script-src 'self' {IMPORT_MAP_HASH}; style-src 'self'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
        "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(self)",
}
BUG_LOG_EVERY_S = 60.0
MALFORMED_LOG_EVERY_S = 10.0


class _RateLimit:
    """At most one pass per key and interval; counts what it held back."""

    def __init__(self, every_s: float, max_keys: int = 1024) -> None:
        self._every_s = every_s
        self._max_keys = max_keys
        self._last: dict[str, tuple[float, int]] = {}

    def allow(self, key: str) -> int | None:
        """None: hold this one back; otherwise how many were held back since the last pass."""
        now = time.monotonic()
        last, held = self._last.get(key, (float("-inf"), 0))
        if now - last < self._every_s:
            self._last[key] = (last, held + 1)
            return None
        if key not in self._last and len(self._last) >= self._max_keys:
            self._last.clear()
        self._last[key] = (now, 0)
        return held


_bugs = _RateLimit(BUG_LOG_EVERY_S)


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "?"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn a vanished client into silence and a bug into a JSON 500 with a bounded log."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return _as_json(exc)
    except ConnectionResetError:
        _log.debug("client %s went away during %s %s", request.remote, request.method,
                   _route_name(request))  # fmt: skip
        raise web.HTTPBadRequest(reason="connection lost") from None
    except Exception as exc:
        route = _route_name(request)
        held = _bugs.allow(f"{route}:{type(exc).__name__}")
        if held is not None:
            _log.error(
                "unexpected %s in %s %s (%d more like it not logged)",
                type(exc).__name__, request.method, route, held, exc_info=True,
            )  # fmt: skip
        body = json.dumps({"error": "internal", "reason": "internal error; see the gateway log"})
        return web.Response(status=500, text=body, content_type="application/json")


_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
_DROPPED_HEADERS = frozenset({"content-type", "content-length"})


def _as_json(exc: web.HTTPException) -> web.Response:
    """A plain-text HTTP error (the router's 404/405 and the like) in the JSON error shape."""
    code = _CODES.get(exc.status) or exc.reason.lower().replace(" ", "_")
    body = json.dumps({"error": code, "reason": exc.reason.lower()})
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in _DROPPED_HEADERS}
    return web.Response(
        status=exc.status, text=body, content_type="application/json", headers=headers
    )


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the headers on every response, whoever built it."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


class MalformedRequestFilter(logging.Filter):
    """Replaces aiohttp's traceback for a request its parser refused with one short line."""

    def __init__(self) -> None:
        super().__init__()
        self._limit = _RateLimit(MALFORMED_LOG_EVERY_S)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        kind = type(exc).__name__
        held = self._limit.allow(kind)
        if held is None:
            return False
        # The raw request (which aiohttp's message quotes) is never logged: only its kind.
        record.msg = "refused a malformed HTTP request: %s (status %d; %d more not logged)"
        record.args = (kind, exc.code, held)
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_FILTER = MalformedRequestFilter()


def install_log_filter() -> None:
    """Put the malformed-request filter on aiohttp's server logger (once)."""
    logger = logging.getLogger("aiohttp.server")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
