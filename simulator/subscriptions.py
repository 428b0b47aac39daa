"""Event subscriptions of a simulated device: pull points (long-poll) and WS-BaseNotification push."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from doorstep.simulator.soap import SoapFault, envelope

_log = logging.getLogger(__name__)

MAX_QUEUED = 1000  # a real camera's pull point buffer is small; the oldest messages go first
MAX_LIFETIME = timedelta(hours=24)


class PullPoint:
    """One pull-point subscription: a bounded message queue read by PullMessages."""

    def __init__(self, subscription_id: str, address: str, termination: datetime) -> None:
        self.id = subscription_id
        self.address = address
        self.termination = termination
        self._messages: deque[str] = deque(maxlen=MAX_QUEUED)
        self._arrived = asyncio.Event()

    def push(self, message: str) -> None:
        """Queue a rendered NotificationMessage and wake a waiting PullMessages."""
        self._messages.append(message)
        self._arrived.set()

    def close(self) -> None:
        """Wake a waiting PullMessages: the subscription is gone (unsubscribed, or a reboot)."""
        self._arrived.set()

    async def pull(self, wait_s: float, limit: int) -> list[str]:
        """Return queued messages at once, else wait up to `wait_s` for the first one."""
        if not self._messages:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait_s)
        taken: list[str] = []
        while self._messages and len(taken) < limit:
            taken.append(self._messages.popleft())
        return taken


class PushSubscription:
    """A WS-BaseNotification subscription: messages are POSTed to the consumer as wsnt:Notify."""

    def __init__(
        self,
        subscription_id: str,
        address: str,
        consumer: str,
        termination: datetime,
        http: aiohttp.ClientSession,
    ) -> None:
        self.id = subscription_id
        self.address = address
        self.consumer = consumer
        self.termination = termination
        self._http = http
        self._queue: asyncio.Queue[str] = asyncio.Queue(MAX_QUEUED)
        self._task = asyncio.create_task(self._deliver(), name=f"notify:{subscription_id}")
        self.delivered = 0

    def push(self, message: str) -> None:
        """Queue a message for delivery (dropped if the consumer is hopelessly behind)."""
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(message)

    async def _deliver(self) -> None:
        while True:
            await self.send(await self._queue.get())

    async def send(self, messages: str) -> int | None:
        """POST one wsnt:Notify carrying `messages`; the consumer's HTTP status, None if unsent."""
        body = envelope(f"<wsnt:Notify>{messages}</wsnt:Notify>")
        try:
            async with self._http.post(
                self.consumer,
                data=body,
                headers={"Content-Type": "application/soap+xml; charset=utf-8"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.debug("notify to consumer failed: %s", type(exc).__name__)
            return None
        self.delivered += 1
        return response.status

    async def close(self) -> None:
        """Stop delivering."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _loopback_only(url: str) -> str:
    """The simulator only ever calls back to this machine (tests must not reach the LAN)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "consumer address must be http(s)")
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError(host)
        except ValueError:
            raise SoapFault(
                "Sender", ("ter:InvalidArgVal",), "consumer must be on loopback"
            ) from None
    return url


Subscription = PullPoint | PushSubscription


class SubscriptionManager:
    """All subscriptions of one device, with the MaxPullPoints limit real cameras have."""

    def __init__(
        self, clock: Callable[[], datetime], base_url: Callable[[], str], max_pullpoints: int
    ) -> None:
        self._clock = clock
        self._base_url = base_url
        self.max_pullpoints = max_pullpoints
        self.max_lifetime = MAX_LIFETIME
        """The longest termination time granted, whatever is asked (one device grants 60 s)."""
        self._subscriptions: dict[str, Subscription] = {}

    def _expire(self) -> None:
        now = self._clock()
        for sid, sub in list(self._subscriptions.items()):
            if sub.termination <= now:
                del self._subscriptions[sid]
                if isinstance(sub, PushSubscription):
                    asyncio.get_running_loop().create_task(sub.close())

    def _termination(self, requested: datetime | None) -> datetime:
        now = self._clock()
        if requested is None:
            requested = now + timedelta(minutes=1)
        if requested <= now:
            raise SoapFault(
                "Sender",
                ("wsrf-rw:UnacceptableInitialTerminationTimeFault",),
                "termination time in the past",
            )
        return min(requested, now + self.max_lifetime)

    def _new_id(self) -> tuple[str, str]:
        sid = secrets.token_hex(8)
        return sid, f"{self._base_url()}/onvif/subscription/{sid}"

    def create_pullpoint(self, requested: datetime | None) -> PullPoint:
        """A new pull point, or a Fault when every slot is taken (until old ones expire)."""
        self._expire()
        pullpoints = sum(isinstance(s, PullPoint) for s in self._subscriptions.values())
        if pullpoints >= self.max_pullpoints:
            raise SoapFault(
                "Receiver",
                ("ter:Action", "ter:MaxPullPointsReached"),
                f"maximum number of pull points ({self.max_pullpoints}) reached",
                "<wsnt:SubscribeCreationFailedFault><wsrf-bf:Timestamp>"
                f"{self._clock().isoformat()}</wsrf-bf:Timestamp></wsnt:SubscribeCreationFailedFault>",
            )
        sid, address = self._new_id()
        pullpoint = PullPoint(sid, address, self._termination(requested))
        self._subscriptions[sid] = pullpoint
        return pullpoint

    def occupy_pullpoints(self, lifetime: timedelta) -> list[PullPoint]:
        """Fill every free pull-point slot with a subscription nobody will pull or renew (what
        a crashed client leaves behind); they expire after `lifetime`."""
        self._expire()
        held = []
        free = self.max_pullpoints - sum(
            isinstance(s, PullPoint) for s in self._subscriptions.values()
        )
        for _ in range(free):
            sid, address = self._new_id()
            held.append(PullPoint(sid, address, self._clock() + lifetime))
            self._subscriptions[sid] = held[-1]
        return held

    def create_push(
        self, consumer: str, requested: datetime | None, http: aiohttp.ClientSession
    ) -> PushSubscription:
        """A new push subscription to a loopback consumer."""
        self._expire()
        sid, address = self._new_id()
        push = PushSubscription(
            sid, address, _loopback_only(consumer), self._termination(requested), http
        )
        self._subscriptions[sid] = push
        return push

    def get(self, subscription_id: str) -> Subscription:
        """A live subscription, or the fault a camera gives for an unknown one."""
        self._expire()
        found = self._subscriptions.get(subscription_id)
        if found is None:
            raise SoapFault(
                "Sender", ("wsrf-rw:ResourceUnknownFault",), "unknown or expired subscription"
            )
        return found

    def renew(self, subscription_id: str, requested: datetime | None) -> Subscription:
        """Extend a subscription's life."""
        found = self.get(subscription_id)
        found.termination = self._termination(requested)
        return found

    async def unsubscribe(self, subscription_id: str) -> None:
        """End a subscription now."""
        found = self.get(subscription_id)
        del self._subscriptions[subscription_id]
        if isinstance(found, PushSubscription):
            await found.close()
        else:
            found.close()

    def broadcast(self, message: str) -> None:
        """Deliver a message to every live subscription."""
        self._expire()
        for sub in self._subscriptions.values():
            sub.push(message)

    def push_subscriptions(self) -> list[PushSubscription]:
        """The live push subscriptions."""
        self._expire()
        return [s for s in self._subscriptions.values() if isinstance(s, PushSubscription)]

    @property
    def count(self) -> int:
        """Live subscriptions."""
        self._expire()
        return len(self._subscriptions)

    async def drop_all(self) -> None:
        """Forget every subscription (a reboot)."""
        subs, self._subscriptions = self._subscriptions, {}
        for sub in subs.values():
            if isinstance(sub, PushSubscription):
                await sub.close()
            else:
                sub.close()
