"""Receives HTTP callbacks from devices (ONVIF Notify) on a listener of its own.

Every POST is checked before a driver's parser sees it: an unguessable token in the path, the
sender's address must be the registered camera's, a body cap, and a rate limit per webhook.
Unknown tokens get 404, other senders 403, oversize bodies 413, floods 429, bodies the driver's
parser rejects 400 — and none of them reaches the event bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aiohttp import web

from doorstep.gateway.devices.rates import TokenBucket

_log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BODY_BYTES = 256 * 1024
THREAD_PARSE_BYTES = 32 * 1024  # bigger bodies are parsed off the event loop
QUEUE_SIZE = 256
RATE_PER_S = 50.0
BURST = 100.0


class RegisteredWebhook(Generic[T]):
    """One camera's callback URL and the queue of what it delivered."""

    def __init__(
        self,
        server: WebhookServer,
        token: str,
        sources: frozenset[str],
        parse: Callable[[bytes], T],
    ) -> None:
        self.url = f"{server.base_url}/hooks/{token}"
        self.token = token
        self.sources = sources
        self.parse = parse
        self.queue: asyncio.Queue[T] = asyncio.Queue(QUEUE_SIZE)
        self.bucket = TokenBucket(RATE_PER_S, BURST, server.clock)
        self._server = server
        self.accepted = 0
        self.rejected = 0

    def refused(self) -> int:
        """Count a refused POST; the logging level for it (WARNING at 1, 2, 4, 8, … refusals)."""
        self.rejected += 1
        # A camera (or a LAN host posing as one) can send thousands of bad POSTs a second.
        return logging.WARNING if self.rejected & (self.rejected - 1) == 0 else logging.DEBUG

    async def receive(self) -> T:
        """The next parsed body."""
        return await self.queue.get()

    async def close(self) -> None:
        """Forget this webhook; later POSTs to it get 404."""
        self._server._hooks.pop(self.token, None)


class WebhookServer:
    """The listener and registry of every device webhook."""

    def __init__(
        self,
        host: str,
        port: int,
        advertise: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self._advertise = advertise
        self.clock = clock
        """What the webhooks' rate limits measure time with (a test holds it still)."""
        self._hooks: dict[str, RegisteredWebhook[Any]] = {}  # type-erased: each parses its own
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> None:
        """Start listening (nothing stays open if it fails)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/hooks/{token}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except BaseException:
            await self.stop()
            raise
        bound = self._runner.addresses[0]
        host = self._advertise or (self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1")  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{host}:{bound[1]}"
        _log.info("receiving device callbacks on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening and close the socket; safe to call twice, or after a failed start."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def register(self, source_host: str, parse: Callable[[bytes], T]) -> RegisteredWebhook[T]:
        """A webhook for POSTs from `source_host` (a name is resolved once, now)."""
        sources = await _addresses(source_host)
        token = secrets.token_urlsafe(16)  # 128 bits: the path is the first secret
        hook = RegisteredWebhook(self, token, sources, parse)
        self._hooks[token] = hook
        return hook

    async def _handle(self, request: web.Request) -> web.Response:
        hook = self._hooks.get(request.match_info["token"])
        if hook is None:
            raise web.HTTPNotFound()
        remote = request.remote or ""
        if _normalise(remote) not in hook.sources:
            _log.log(
                hook.refused(),
                "callback from %s for a camera at %s refused (%d refused so far)",
                remote,
                ",".join(sorted(hook.sources)),
                hook.rejected,
            )
            raise web.HTTPForbidden(reason="not from the camera")
        if not hook.bucket.take():
            hook.refused()
            raise web.HTTPTooManyRequests(headers={"Retry-After": "1"})
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_BODY_BYTES, actual_size=request.content_length or 0
            )
        # The whole body, however it is chunked (StreamReader.read(n) returns what has arrived
        # so far, which truncated big bodies); client_max_size answers 413 past the cap.
        body = await request.read()
        if len(body) > MAX_BODY_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY_BYTES, actual_size=len(body))
        try:
            parsed = (
                await asyncio.to_thread(hook.parse, body)
                if len(body) > THREAD_PARSE_BYTES
                else hook.parse(body)
            )
        except ValueError as exc:
            digest = hashlib.sha256(body).hexdigest()[:16]
            # The payload itself is never logged: only its size and a hash to correlate.
            _log.log(
                hook.refused(),
                "callback body refused (%d bytes, sha256 %s…): %s (%d refused so far)",
                len(body),
                digest,
                type(exc).__name__,
                hook.rejected,
            )
            raise web.HTTPBadRequest(reason="unusable body") from None
        with contextlib.suppress(asyncio.QueueFull):  # a stalled driver loses the oldest news
            if hook.queue.full():
                hook.queue.get_nowait()
            hook.queue.put_nowait(parsed)
        hook.accepted += 1
        return web.Response(status=202)


def _normalise(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


async def _addresses(host: str) -> frozenset[str]:
    try:
        return frozenset({_normalise(str(ipaddress.ip_address(host)))})
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return frozenset(_normalise(str(info[4][0])) for info in infos)
