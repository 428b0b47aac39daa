"""An ONVIF camera or doorbell as an SDK device: identity, streams, snapshot and an event feed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from doorstep.drivers.onvif.normalize import is_known_topic, normalize
from doorstep.drivers.onvif.notification import (
    MAX_MESSAGES,
    Notification,
    NotificationBatch,
    notification_from_zeep,
    parse_notification_batch,
)
from doorstep.drivers.onvif.session import OnvifSession, SubscriptionLost
from doorstep.sdk import (
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    DriverError,
    EventKind,
    ProtocolError,
    StreamSource,
    Webhook,
)

DEFAULT_PORT = 80
SUBSCRIPTION_LIFETIME = timedelta(minutes=10)  # short enough not to strand camera slots
RENEW_AT = 0.8  # of the granted lifetime, as Home Assistant and the library do
LONG_POLL_MAX_S = 60.0
MOTION_AUTO_CLEAR_S = 60.0  # for cameras that never send the 'off'
MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024
MAX_UNKNOWN_TOPICS = 256
LOGGED_UNKNOWN_TOPICS = 8
"""Unknown topics logged with their payload per connection; a camera inventing topics by the
hundred gets DEBUG lines after these (hole 9: no log line per event)."""
RESUBSCRIBE_TRIES = 5
PUSH_CONFIRM_S = 5.0  # how long the camera gets to prove it can reach our callback URL
UNSUBSCRIBE_S = 1.5
"""Unsubscribing at close is a courtesy (subscriptions expire anyway); past this, the sessions
are closed without it, inside the gateway's 3 s close budget."""
PUSH_RENEW_S = 10.0  # renewing often notices a rebooted camera quickly (no traffic otherwise)


Clears = dict[tuple[EventKind, str | None], tuple[float, DeviceEvent]]


def _cleared(event: DeviceEvent) -> DeviceEvent:
    """The 'off' a camera never sent, after the auto-clear timeout."""
    return event.model_copy(
        update={
            "active": False,
            "time": datetime.now(UTC),
            "initial": False,
            "attributes": {**event.attributes, "auto_clear": "true"},
        }
    )


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, however it is chunked; ProtocolError as soon as it passes `cap` bytes."""
    too_big = ProtocolError(f"snapshot is larger than {cap // (1024 * 1024)} MiB; refused")
    if response.content_length is not None and response.content_length > cap:
        raise too_big
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > cap:
            raise too_big
    return bytes(body)


class OnvifDevice:
    """One camera reached through its ONVIF services."""

    def __init__(self, config: DeviceConfig, context: DriverContext) -> None:
        self._config = config
        self._context = context
        self._log = context.logger
        self._session: OnvifSession | None = None
        self._unknown_topics: set[str] = set()
        self._snapshot_uri: str | None = None
        self._first_push: list[Notification] = []
        self.dropped_messages = 0
        """Notification messages past MAX_MESSAGES per body, dropped since connecting."""
        self._unreadable = 0
        self.auto_clear_s = float(config.options.get("motion_auto_clear_s", MOTION_AUTO_CLEAR_S))

    def _open_session(self) -> OnvifSession:
        password = self._config.password.get_secret_value() if self._config.password else None
        return OnvifSession(
            self._config.host,
            self._config.port or DEFAULT_PORT,
            self._config.username,
            password,
            self._log,
        )

    @property
    def session(self) -> OnvifSession:
        """The connected session (connect() first)."""
        if self._session is None:
            raise DeviceUnavailable("not connected")
        return self._session

    async def connect(self) -> DeviceInfo:
        """Read the clock, pin the services, identify the camera."""
        await self.close()
        self._session = self._open_session()
        return await self._session.open()

    @property
    def clock_offset(self) -> timedelta:
        """How far the camera's clock is from ours (evidence records it)."""
        return self._session.clock_offset if self._session else timedelta()

    async def streams(self) -> Sequence[StreamSource]:
        """Main and sub streams with the camera's credentials."""
        password = self._config.password
        sources = await self.session.streams()
        # A speaker (audio output) is what the RTSP backchannel plays through.
        speaker = await self.session.has_backchannel() if sources else False
        return [
            s.model_copy(
                update={
                    "username": self._config.username,
                    "password": password,
                    "backchannel": speaker,
                }
            )
            for s in sources
        ]

    async def snapshot(self) -> bytes:
        """One JPEG from the camera's snapshot URI (Digest auth, no redirects, size-capped)."""
        if self._snapshot_uri is None:
            self._snapshot_uri = await self.session.snapshot_uri()
        if self._snapshot_uri is None:
            raise ProtocolError("the camera has no snapshot URI")
        username = self._config.username or ""
        password = self._config.password.get_secret_value() if self._config.password else ""
        try:
            async with self._context.http.get(
                self._snapshot_uri,
                allow_redirects=False,
                middlewares=(aiohttp.DigestAuthMiddleware(username, password),),
                timeout=aiohttp.ClientTimeout(total=15),
            ) as response:
                if response.status != 200:
                    raise ProtocolError(f"snapshot answered HTTP {response.status}")
                body = await _read_capped(response, MAX_SNAPSHOT_BYTES)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeviceUnavailable(f"snapshot: {type(exc).__name__}") from exc
        if not body.startswith(b"\xff\xd8"):
            raise ProtocolError("snapshot is not a JPEG")
        return body

    async def events(self) -> AsyncIterator[DeviceEvent]:
        """Events for as long as the camera is there: by callback when it can reach us, else by
        PullPoint long-poll; re-subscribing after the camera's reboots."""
        session = self.session
        if not session.has_events:
            self._log.info("the camera offers no event service; streams only")
            await asyncio.Event().wait()
        hook = await self._push_subscription(session)
        source = self._push_events(session, hook) if hook else self._pull_events(session)
        clears: Clears = {}
        try:
            async for batch in source:
                now = time.monotonic()
                for notification in batch:
                    self._remember_unknown(notification)
                    for event in self._normalise(notification):
                        self._track_motion(event, clears)
                        yield event
                for key, (due, event) in list(clears.items()):
                    if due <= now:
                        del clears[key]
                        yield _cleared(event)
        finally:
            if hook is not None:
                await hook.close()

    def _next_clear_s(self) -> float:
        return LONG_POLL_MAX_S if self.auto_clear_s <= 0 else max(1.0, self.auto_clear_s / 4)

    async def _pull_events(self, session: OnvifSession) -> AsyncIterator[list[Notification]]:
        """Batches of notifications from PullPoint long-polls (empty batches tick the clock)."""
        renew_at = await self._subscribe(session)
        disconnects = 0
        while True:
            wait = max(1.0, min(LONG_POLL_MAX_S, renew_at - time.monotonic(), self._next_clear_s()))
            try:
                messages = await session.pull(timedelta(seconds=wait), MAX_MESSAGES)
                disconnects = 0
            except SubscriptionLost as exc:
                self._log.info("event subscription lost (%s); subscribing again", exc)
                renew_at = await self._subscribe(session)
                continue
            except DeviceUnavailable:
                # Some cameras close an idle long-poll connection; that is normal once. Twice
                # in a row means the camera is gone: let the supervisor reconnect.
                disconnects += 1
                if disconnects > 1:
                    raise
                continue
            if len(messages) > MAX_MESSAGES:  # asked for at most that many; a hostile camera
                self._note_dropped(len(messages) - MAX_MESSAGES)
                messages = messages[:MAX_MESSAGES]
            yield [n for n in (self._from_zeep(m) for m in messages) if n is not None]
            if time.monotonic() >= renew_at:
                try:
                    granted = await session.renew(SUBSCRIPTION_LIFETIME)
                    renew_at = time.monotonic() + granted.total_seconds() * RENEW_AT
                except SubscriptionLost:
                    renew_at = await self._subscribe(session)

    async def _push_subscription(self, session: OnvifSession) -> Webhook[NotificationBatch] | None:
        """A callback subscription the camera has proved it can deliver to, or None."""
        registry = self._context.webhooks
        if registry is None or self._config.options.get("events") == "pullpoint":
            return None
        hook = await registry.register(self._config.host, parse_notification_batch)
        try:
            await session.subscribe_push(hook.url, SUBSCRIPTION_LIFETIME)
            # The camera sends its current state right after Subscribe: proof it reaches us.
            first = await asyncio.wait_for(hook.receive(), PUSH_CONFIRM_S)
        except (DriverError, TimeoutError) as exc:
            self._log.info("event callbacks unavailable (%s); polling instead", type(exc).__name__)
            await session.unsubscribe()
            await hook.close()
            return None
        self._first_push = self._kept(first)
        return hook

    async def _push_events(
        self, session: OnvifSession, hook: Webhook[NotificationBatch]
    ) -> AsyncIterator[list[Notification]]:
        """Batches of notifications the camera POSTs; frequent renewals check it is alive."""
        yield self._first_push
        renew_at = time.monotonic() + PUSH_RENEW_S
        while True:
            wait = max(0.1, min(renew_at - time.monotonic(), self._next_clear_s()))
            try:
                yield self._kept(await asyncio.wait_for(hook.receive(), wait))
            except TimeoutError:
                yield []
            if time.monotonic() >= renew_at:
                try:
                    await session.renew_push(SUBSCRIPTION_LIFETIME)
                except SubscriptionLost:
                    # The camera answered but forgot us: it rebooted. Subscribe again.
                    self._log.info("callback subscription lost; subscribing again")
                    await session.subscribe_push(hook.url, SUBSCRIPTION_LIFETIME)
                renew_at = time.monotonic() + PUSH_RENEW_S

    async def _subscribe(self, session: OnvifSession) -> float:
        """Subscribe (retrying briefly: a camera just back from reboot may refuse at first)."""
        for attempt in range(RESUBSCRIBE_TRIES):
            try:
                granted = await session.subscribe(SUBSCRIPTION_LIFETIME)
                return time.monotonic() + granted.total_seconds() * RENEW_AT
            except (SubscriptionLost, ProtocolError) as exc:
                if attempt == RESUBSCRIBE_TRIES - 1:
                    raise ProtocolError(f"cannot subscribe to events: {exc}") from exc
                await asyncio.sleep(0.5 * 2**attempt)
        raise ProtocolError("cannot subscribe to events")  # unreachable; keeps mypy content

    def _kept(self, batch: NotificationBatch) -> list[Notification]:
        if batch.dropped:
            self._note_dropped(batch.dropped)
        return list(batch.notifications)

    def _note_dropped(self, count: int) -> None:
        first = not self.dropped_messages
        self.dropped_messages += count
        # One line per connection, whatever the camera keeps sending; the count is an attribute.
        if first:
            self._log.warning(
                "the camera sent more than %d event messages at once; the excess is dropped "
                "(%d so far; not logged again while connected)",
                MAX_MESSAGES,
                count,
            )

    def _from_zeep(self, message: Mapping[str, Any]) -> Notification | None:
        try:
            notification = notification_from_zeep(message)
        except ValueError as exc:
            self._unreadable += 1
            level = logging.WARNING if self._unreadable == 1 else logging.DEBUG
            self._log.log(level, "unreadable event from the camera skipped: %s", exc)
            return None
        return notification

    def _remember_unknown(self, notification: Notification) -> None:
        topic = notification.topic
        if (
            not is_known_topic(topic)
            and topic not in self._unknown_topics
            and len(self._unknown_topics) < MAX_UNKNOWN_TOPICS
        ):
            self._unknown_topics.add(topic)
            # Logged once per topic with its payload, so a user can contribute it as a sample.
            level = (
                logging.WARNING
                if len(self._unknown_topics) <= LOGGED_UNKNOWN_TOPICS
                else logging.DEBUG
            )
            self._log.log(
                level,
                "unknown event topic %s (kept as 'other'); payload: %s",
                topic[:200],
                repr(notification)[:4000],
            )

    def _normalise(self, notification: Notification) -> list[DeviceEvent]:
        return normalize(notification, datetime.now(UTC))

    def _track_motion(self, event: DeviceEvent, clears: Clears) -> None:
        if event.kind is not EventKind.MOTION or self.auto_clear_s <= 0:
            return
        key = (event.kind, event.source)
        if event.active:
            clears[key] = (time.monotonic() + self.auto_clear_s, event)
        else:
            clears.pop(key, None)

    async def close(self) -> None:
        """Unsubscribe (frees the camera's slot) and close the sessions."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            await asyncio.wait_for(session.unsubscribe(), UNSUBSCRIBE_S)
        except TimeoutError:
            self._log.debug("unsubscribe at close timed out")
        finally:
            await session.close()  # whatever happened above: no HTTP session outlives us
