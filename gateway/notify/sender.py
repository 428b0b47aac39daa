"""Sends one Web Push message: aes128gcm encryption (RFC 8291), a VAPID token (RFC 8292) and
the POST to the push service (RFC 8030), with what each answer means for the subscription.

Encrypting and signing take a fraction of a millisecond, so they run on the loop; the POST uses
the caller's aiohttp session with an explicit timeout and never follows a redirect (the
endpoint was checked, the place a redirect points to was not).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import aiohttp
import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException
from yarl import URL

from doorstep.gateway.notify.endpoints import EndpointPolicy, EndpointRefused, endpoint_host
from doorstep.gateway.notify.payload import Notification
from doorstep.gateway.notify.vapid import VapidKeys

_log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
TOKEN_LIFETIME_S = 12 * 3600
"""RFC 8292 §2: `exp` at most 24 h ahead; half that leaves room for a push service's clock."""
MAX_ATTEMPTS = 3
RETRY_WINDOW_S = 60.0
"""Retries stop this long after the first attempt (or at the message's TTL, if sooner)."""
FIRST_BACKOFF_S = 0.5
_OK = frozenset({200, 201, 202})
_GONE = frozenset({404, 410})
_MAX_NOTED = 256


class Outcome(StrEnum):
    """What became of one message."""

    DELIVERED = "delivered"
    """The push service took it (it reaches the device when the device is reachable)."""
    GONE = "gone"
    """The subscription expired or was unsubscribed (404/410): forget it."""
    REJECTED = "rejected"
    """Refused for good (bad token or key, too large, a redirect, an endpoint not allowed)."""
    FAILED = "failed"
    """Throttled, a server error or no answer, still so after the retries."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """An outcome, the last HTTP status (None: no answer) and a reason for people."""

    outcome: Outcome
    status: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where one device receives: its endpoint and keys (all three are the device's secrets)."""

    endpoint: str = field(repr=False)
    p256dh: str = field(repr=False)
    auth: str = field(repr=False)

    @property
    def host(self) -> str:
        """The endpoint's host: what may be logged."""
        return endpoint_host(self.endpoint)


def _unb64url(text: str) -> bytes:
    stripped = text.rstrip("=")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP-date), if readable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value), 86400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PushSender:
    """Encrypts, signs and posts messages for one gateway (its VAPID key, its contact)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        keys: VapidKeys,
        contact: str,
        policy: EndpointPolicy,
        *,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._vapid = Vapid02(keys.private_key)
        self.public_key = keys.public_key
        self._contact = contact
        self.policy = policy
        self._timeout = timeout
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._noted: set[tuple[str, str]] = set()
        """(host, problem) already logged at WARNING: later ones go to DEBUG."""

    def encrypt(
        self,
        body: bytes,
        target: PushTarget,
        *,
        sender_key: ec.EllipticCurvePrivateKey | None = None,
        salt: bytes | None = None,
    ) -> bytes:
        """The aes128gcm body for one device, with a fresh sender key and salt (given only by
        the RFC 8291 test vector's check)."""
        encrypted: bytes = http_ece.encrypt(
            body,
            salt=salt,
            private_key=sender_key or ec.generate_private_key(ec.SECP256R1()),
            dh=_unb64url(target.p256dh),
            auth_secret=_unb64url(target.auth),
            version="aes128gcm",
        )
        return encrypted

    def authorization(self, url: URL) -> str:
        """The `Authorization: vapid t=…, k=…` header for the endpoint's push service."""
        claims = {
            "aud": str(url.origin()),
            "exp": int(self._wall_clock()) + TOKEN_LIFETIME_S,
            "sub": self._contact,
        }
        header: str = self._vapid.sign(claims)["Authorization"]
        return header

    def _note(self, host: str, problem: str, message: str, *args: object) -> None:
        key = (host, problem)
        first = key not in self._noted
        if first and len(self._noted) < _MAX_NOTED:
            self._noted.add(key)
        _log.log(logging.WARNING if first else logging.DEBUG, message, *args)

    async def _post(
        self, url: URL, data: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        try:
            async with self._session.post(
                url, data=data, headers=headers, allow_redirects=False, timeout=self._timeout
            ) as response:
                return response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, type(exc).__name__

    async def send(
        self, target: PushTarget, note: Notification, *, retry: bool = True
    ) -> SendResult:
        """Deliver one notification to one device; retries (within the message's TTL) on 429,
        5xx and no answer when `retry`."""
        host = target.host
        try:
            url = self.policy.check(target.endpoint)  # again: the allowed hosts may have changed
            body = self.encrypt(note.body, target)
            authorization = self.authorization(url)
        except EndpointRefused as exc:
            return SendResult(Outcome.REJECTED, None, str(exc))
        except (ValueError, VapidException, http_ece.ECEException) as exc:
            self._note(host, "encrypt", "cannot encrypt or sign for %s: %s", host, type(exc))
            return SendResult(Outcome.REJECTED, None, "the subscription's keys cannot be used")
        headers = {
            "TTL": str(note.ttl_s),
            "Urgency": note.urgency,
            "Topic": note.topic,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": authorization,
        }
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(float(note.ttl_s), RETRY_WINDOW_S)
        attempts = MAX_ATTEMPTS if retry else 1
        for attempt in range(1, attempts + 1):
            status, extra = await self._post(url, body, headers)
            result = self._judge(host, status)
            if result is not None:
                return result
            if attempt == attempts:
                break
            wait = FIRST_BACKOFF_S * 2 ** (attempt - 1)
            if status == 429:
                wait = retry_after_s(extra) or wait
            if loop.time() + wait > deadline:
                break
            await self._sleep(wait)
        reason = "no answer" if status is None else f"the push service answered {status}"
        self._note(host, "failed", "push to %s failed: %s", host, reason)
        return SendResult(Outcome.FAILED, status, reason)

    def _judge(self, host: str, status: int | None) -> SendResult | None:
        """The result of one answer; None when it is worth trying again."""
        if status is None or status == 429 or status >= 500:
            return None
        if status in _OK:
            return SendResult(Outcome.DELIVERED, status, "delivered")
        if status in _GONE:
            _log.info("push subscription at %s is gone (%d): forgetting it", host, status)
            return SendResult(Outcome.GONE, status, "the subscription expired or was removed")
        problem, reason = _refusal(status)
        # A 413 is the same bug whichever service says it: logged once for all of them.
        where = "" if status == 413 else host
        self._note(where, problem, "push to %s refused: %s (%d)", host, reason, status)
        return SendResult(Outcome.REJECTED, status, reason)


def _refusal(status: int) -> tuple[str, str]:
    """(log key, reason for people) of an answer that is not worth retrying."""
    if status == 413:
        return "413", "the message was too large (a Doorstep bug)"
    if status in (401, 403):
        return "auth", "the push service refused this gateway's key"
    if 300 <= status < 400:
        return "redirect", "the push service redirected"
    return f"status-{status}", f"the push service answered {status}"
