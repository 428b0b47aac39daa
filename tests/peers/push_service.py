"""A real RFC 8030 push service on 127.0.0.1, standing in for FCM/Mozilla/Apple in the tests.

It holds the private halves of the subscriptions it hands out (as a browser would), checks
every message the way a push service and a browser together do: the VAPID token (RFC 8292:
ES256 over the claims, `aud` = this origin, `exp` within 24 h, `sub` a mailto:/https: contact,
`k` = the applicationServerKey the subscription was made with) and the aes128gcm body (RFC 8291,
decrypted with http_ece and the subscription's keys). Unknown subscriptions get 410, a missing
token 401, a bad one 403. What it decrypted is recorded for the test to read.

The VAPID check uses `cryptography` directly, not py_vapid, so a bug in the gateway's signing
library cannot pass its own check; the decryption shares http_ece with the sender, which is why
tests/notify also checks the sender against the RFC 8291 Appendix A vector.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAX_BODY = 4096
"""RFC 8030 §7.2: a push service must accept bodies of at least 4096 bytes."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidRefused(Exception):
    """The token is missing a part or does not verify."""


def verify_vapid(header: str, audience: str, application_server_key: str) -> dict[str, Any]:
    """The claims of a valid `vapid t=…, k=…` header; `VapidRefused` with the reason otherwise."""
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidRefused(f"scheme {scheme!r} is not vapid")
    parts = {}
    for item in params.split(","):
        name, _, value = item.strip().partition("=")
        parts[name.strip()] = value.strip()
    token, key = parts.get("t", ""), parts.get("k", "")
    if key != application_server_key:
        raise VapidRefused("k differs from the subscription's applicationServerKey")
    signing_input, _, signature_b64 = token.rpartition(".")
    header_b64, _, claims_b64 = signing_input.partition(".")
    try:
        jose = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    except ValueError as exc:
        raise VapidRefused(f"malformed token: {exc}") from None
    if jose.get("alg") != "ES256" or len(signature) != 64:  # JOSE signatures are r || s
        raise VapidRefused("not an ES256 JWS")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public.verify(encode_dss_signature(r, s), signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidRefused("bad signature") from None
    now = time.time()
    if claims.get("aud") != audience:
        raise VapidRefused(f"aud {claims.get('aud')!r} is not {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 86400:
        raise VapidRefused(f"exp {exp!r} is not within the next 24 h")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidRefused("sub is not a mailto: or https: contact")
    return dict(claims)


@dataclass
class BrowserSubscription:
    """One subscription as a browser holds it: the endpoint and both halves of its keys."""

    sid: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    auth: bytes = field(repr=False)
    application_server_key: str

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def to_json(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


@dataclass(frozen=True)
class ReceivedPush:
    """A message the service accepted and decrypted."""

    sid: str
    plaintext: bytes
    claims: dict[str, Any]
    ttl: str
    urgency: str | None
    topic: str | None
    at: float
    """time.perf_counter() when it was decrypted."""

    def json(self) -> Any:
        return json.loads(self.plaintext)


class PushReceiver:
    """The push service: start(), hand out subscriptions, read what arrived, close()."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.subscriptions: dict[str, BrowserSubscription] = {}
        self.received: list[ReceivedPush] = []
        self.refused: list[tuple[str, int, str]] = []
        """(sid, status, reason) of every message not accepted."""
        self.attempts: Counter[str] = Counter()
        self._scripted: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        self._arrivals: asyncio.Queue[ReceivedPush] = asyncio.Queue()
        self._runner: web.AppRunner | None = None
        self._count = 0
        self._gate: asyncio.Event | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> PushReceiver:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/push/{sid}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        assert server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> PushReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def subscribe(self, application_server_key: str) -> BrowserSubscription:
        """A new subscription made with this applicationServerKey (pushManager.subscribe)."""
        sid = b64url(os.urandom(12))
        subscription = BrowserSubscription(
            sid, f"{self.origin}/push/{sid}", ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16), application_server_key,
        )  # fmt: skip
        self.subscriptions[sid] = subscription
        return subscription

    def unsubscribe(self, subscription: BrowserSubscription) -> None:
        """The browser dropped it: later messages get 410."""
        self.subscriptions.pop(subscription.sid, None)

    def script(
        self, subscription: BrowserSubscription, *answers: tuple[int, dict[str, str]]
    ) -> None:
        """Answer the next messages for this subscription with these statuses instead."""
        self._scripted.setdefault(subscription.sid, deque()).extend(answers)

    async def next_message(self, timeout: float = 15.0) -> ReceivedPush:
        """Wait for the next accepted message."""
        return await asyncio.wait_for(self._arrivals.get(), timeout)

    def hold(self) -> asyncio.Event:
        """Keep every message waiting (after counting it) until the returned event is set."""
        self._gate = asyncio.Event()
        return self._gate

    def messages_for(self, subscription: BrowserSubscription) -> list[ReceivedPush]:
        return [m for m in self.received if m.sid == subscription.sid]

    def _refuse(self, sid: str, status: int, reason: str) -> web.Response:
        self.refused.append((sid, status, reason))
        return web.Response(status=status, text=reason)

    async def _handle(self, request: web.Request) -> web.Response:  # noqa: PLR0911  # one check each
        sid = request.match_info["sid"]
        self.attempts[sid] += 1
        body = await request.read()
        if self._gate is not None:
            await self._gate.wait()
        scripted = self._scripted.get(sid)
        if scripted:
            status, headers = scripted.popleft()
            self.refused.append((sid, status, "scripted"))
            return web.Response(status=status, headers=headers)
        subscription = self.subscriptions.get(sid)
        if subscription is None:
            return self._refuse(sid, 410, "no such subscription")
        if "TTL" not in request.headers:
            return self._refuse(sid, 400, "TTL is required (RFC 8030 §5.2)")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return self._refuse(sid, 415, "Content-Encoding must be aes128gcm")
        if len(body) > MAX_BODY:
            return self._refuse(sid, 413, f"{len(body)} bytes")
        authorization = request.headers.get("Authorization")
        if not authorization:
            return self._refuse(sid, 401, "no VAPID token")
        try:
            claims = verify_vapid(
                authorization, f"{request.scheme}://{request.host}",
                subscription.application_server_key,
            )  # fmt: skip
        except VapidRefused as exc:
            return self._refuse(sid, 403, str(exc))
        if len(body) < 86 or body[20] != 65 or len(body) - 86 > struct.unpack("!L", body[16:20])[0]:
            return self._refuse(sid, 400, "not a single aes128gcm record")
        try:
            plaintext = http_ece.decrypt(
                body, private_key=subscription.private_key, auth_secret=subscription.auth,
                version="aes128gcm",
            )  # fmt: skip
        except Exception as exc:  # InvalidTag, ECEException: a message the browser drops
            return self._refuse(sid, 400, f"cannot decrypt: {type(exc).__name__}")
        message = ReceivedPush(
            sid, plaintext, claims, request.headers["TTL"], request.headers.get("Urgency"),
            request.headers.get("Topic"), time.perf_counter(),
        )  # fmt: skip
        self.received.append(message)
        self._arrivals.put_nowait(message)
        self._count += 1
        return web.Response(
            status=201, headers={"Location": f"/m/{self._count}", "TTL": message.ttl}
        )
