"""Sends one rule's deliveries: a bounded queue, one request in flight, retries with backoff.

`offer` never waits: the queue is bounded in entries and bytes and drops its oldest delivery
when full (one log line per overflow). A delivery is retried on network errors, 408, 429 and
5xx with exponential backoff and jitter (Retry-After honoured within bounds), never on other
answers; a 3xx is a failure (redirects are not followed: the owner chose the host). After
`max_attempts` or `max_age_s` it is dropped with one log line; while a receiver keeps failing,
later drops are logged at DEBUG until it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from doorstep.gateway.automation.webhook_rule import loggable_url
from doorstep.gateway.automation.webhook_signing import DELIVERY, EVENT, signed_headers

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Timeouts, retries and queue bounds of outgoing webhooks."""

    timeout_s: float = 10.0
    """Each attempt, connecting included."""
    max_attempts: int = 6
    max_age_s: float = 900.0
    """A delivery not through this long after its event is dropped."""
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 300.0
    retry_after_max_s: float = 300.0
    queue_entries: int = 100
    queue_bytes: int = 1 << 20


@dataclass(frozen=True, slots=True)
class Clock:
    """The time and waiting a deliverer uses (tests shrink them)."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = random.random


@dataclass(frozen=True, slots=True)
class Delivery:
    """One body for one rule; `id` is the X-Doorstep-Delivery header, the same on every retry."""

    id: str
    event: str
    """The X-Doorstep-Event header: the event kind, or "test"."""
    body: bytes
    created: float
    """Clock.monotonic() when it was made."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a rule sends and what it signs with."""

    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """How a delivery ended (kept per rule for the API)."""

    at: datetime
    delivery_id: str
    ok: bool
    attempts: int
    http_status: int | None
    error: str | None
    test: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one request got."""

    http_status: int | None
    error: str | None
    retry: bool
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.http_status is not None and 200 <= self.http_status < 300


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date), if readable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value[:9])
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def _judge(status: int, retry_after_s: float | None) -> Attempt:
    if 200 <= status < 300:
        return Attempt(status, None, retry=False)
    if 300 <= status < 400:
        return Attempt(status, f"HTTP {status}: a redirect (not followed)", retry=False)
    retry = status in (408, 429) or status >= 500
    return Attempt(status, f"HTTP {status}", retry=retry, retry_after_s=retry_after_s)


async def send_once(
    http: aiohttp.ClientSession, target: Target, delivery: Delivery, clock: Clock, timeout_s: float
) -> Attempt:
    """POST the delivery once, signed now; the answer's body is never read."""
    headers = {
        "Content-Type": "application/json",
        EVENT: delivery.event,
        DELIVERY: delivery.id,
        **signed_headers(target.secret, int(clock.wall()), delivery.body),
    }
    try:
        async with http.post(
            target.url, data=delivery.body, headers=headers, allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:  # fmt: skip
            # Leaving the block without reading closes the connection rather than draining it.
            asked = retry_after(response.headers.get("Retry-After"), clock.wall())
            return _judge(response.status, asked)
    except TimeoutError:
        return Attempt(None, f"no answer within {timeout_s:g} s", retry=True)
    except (aiohttp.ClientError, OSError) as exc:
        return _network_failure(exc)


def _network_failure(exc: aiohttp.ClientError | OSError) -> Attempt:
    """What a request that got no answer means: TLS and URL problems are not worth retrying."""
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return Attempt(None, "the TLS certificate was refused", retry=False)
    if isinstance(exc, aiohttp.InvalidURL):
        return Attempt(None, "the URL cannot be used", retry=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = exc.os_error.strerror or type(exc.os_error).__name__
        return Attempt(None, f"cannot connect: {reason}", retry=True)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Attempt(None, "the receiver closed the connection", retry=True)
    return Attempt(None, f"network error: {type(exc).__name__}", retry=True)


class RuleDeliverer:
    """One rule's queue and its delivery task."""

    def __init__(
        self,
        name: str,
        target: Target,
        http: aiohttp.ClientSession,
        policy: RetryPolicy,
        clock: Clock,
    ) -> None:
        self.name = name
        self.target = target
        self._http = http
        self._policy = policy
        self._clock = clock
        self._queue: deque[Delivery] = deque()
        self.queued_bytes = 0
        self.dropped = 0
        self.last: DeliveryStatus | None = None
        self._ready = asyncio.Event()
        self._overflowing = False
        self._failing = False
        self.closed = False
        self.sending = False
        """A delivery is in flight (or waiting to retry)."""
        self._task = asyncio.create_task(self._run(), name=f"outgoing-webhook:{name}")

    @property
    def queued(self) -> int:
        """Deliveries waiting (the one in flight not counted)."""
        return len(self._queue)

    def offer(self, delivery: Delivery) -> None:
        """Queue a delivery; never waits. When full, the oldest queued ones make room."""
        if self.closed:
            return
        policy = self._policy
        size = len(delivery.body)
        while self._queue and (
            len(self._queue) >= policy.queue_entries
            or self.queued_bytes + size > policy.queue_bytes
        ):
            old = self._queue.popleft()
            self.queued_bytes -= len(old.body)
            self._dropped_from_queue()
        if size > policy.queue_bytes:
            self._dropped_from_queue()
            return
        self._queue.append(delivery)
        self.queued_bytes += size
        self._ready.set()

    def _dropped_from_queue(self) -> None:
        self.dropped += 1
        if not self._overflowing:
            self._overflowing = True
            _log.warning(
                "outgoing webhook %r to %s is behind: its queue is full, dropping the oldest "
                "deliveries", self.name, loggable_url(self.target.url),
            )  # fmt: skip

    def clear(self) -> None:
        """Forget every queued delivery (the rule was disabled)."""
        self._queue.clear()
        self.queued_bytes = 0

    async def _run(self) -> None:
        while True:
            while not self._queue:
                self._overflowing = False
                self._ready.clear()
                await self._ready.wait()
            delivery = self._queue.popleft()
            self.queued_bytes -= len(delivery.body)
            self.sending = True
            try:
                self.last = await self._deliver(delivery)
            except Exception:  # a bug here must not end this rule's deliveries for good
                _log.exception("outgoing webhook %r: delivery %s failed", self.name, delivery.id)
            finally:
                self.sending = False

    def _backoff(self, attempts: int, asked: float | None) -> float:
        policy = self._policy
        if asked is not None:
            return min(max(asked, 1.0), policy.retry_after_max_s)
        ceiling = min(policy.backoff_max_s, policy.backoff_initial_s * 2.0 ** (attempts - 1))
        return ceiling * (0.5 + 0.5 * self._clock.random())  # jitter: receivers recover apart

    async def _deliver(self, delivery: Delivery) -> DeliveryStatus:
        policy, clock = self._policy, self._clock
        attempts = 0
        while True:
            attempts += 1
            result = await send_once(self._http, self.target, delivery, clock, policy.timeout_s)
            if result.ok:
                if self._failing:
                    self._failing = False
                    _log.info("outgoing webhook %r to %s delivers again", self.name,
                              loggable_url(self.target.url))  # fmt: skip
                return self._status(delivery, result, attempts)
            give_up = not result.retry or attempts >= policy.max_attempts
            delay = 0.0 if give_up else self._backoff(attempts, result.retry_after_s)
            if not give_up and clock.monotonic() + delay - delivery.created > policy.max_age_s:
                give_up = True
            if give_up:
                level = logging.DEBUG if self._failing else logging.WARNING
                self._failing = True
                _log.log(
                    level, "outgoing webhook %r to %s: delivery %s dropped after %d attempt(s): %s",
                    self.name, loggable_url(self.target.url), delivery.id, attempts, result.error,
                )  # fmt: skip
                return self._status(delivery, result, attempts)
            _log.debug("outgoing webhook %r: delivery %s failed (%s), retrying in %.1f s",
                       self.name, delivery.id, result.error, delay)  # fmt: skip
            await clock.sleep(delay)

    def _status(self, delivery: Delivery, result: Attempt, attempts: int) -> DeliveryStatus:
        return DeliveryStatus(
            at=datetime.fromtimestamp(self._clock.wall(), UTC), delivery_id=delivery.id,
            ok=result.ok, attempts=attempts, http_status=result.http_status, error=result.error,
            test=delivery.event == "test",
        )  # fmt: skip

    async def test(self, delivery: Delivery) -> DeliveryStatus:
        """Send a delivery once, now, outside the queue; the outcome becomes the last status."""
        result = await send_once(
            self._http, self.target, delivery, self._clock, self._policy.timeout_s
        )
        self.last = self._status(delivery, result, 1)
        return self.last

    async def close(self) -> None:
        """Stop delivering; queued deliveries are dropped, one in flight is abandoned."""
        self.closed = True
        self.clear()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
