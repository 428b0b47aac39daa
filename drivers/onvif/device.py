"""An ONVIF camera or doorbell as an SDK device: identity, streams, snapshot and an event feed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from drivers.sdk import (
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    EventKind,
    ProtocolError,
    StreamSource,
)

from .normalize import is_known_topic, normalize
from .notification import notification_from_zeep
from .session import OnvifSession, SubscriptionLost

DEFAULT_PORT = 80
SUBSCRIPTION_LIFETIME = timedelta(minutes=10)  # short enough not to strand camera slots
RENEW_AT = 0.8  # of the granted lifetime, as Home Assistant and the library do
LONG_POLL_MAX_S = 60.0
MOTION_AUTO_CLEAR_S = 60.0  # for cameras that never send the 'off'
MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024
MAX_UNKNOWN_TOPICS = 256
RESUBSCRIBE_TRIES = 5


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


class OnvifDevice:
    """One camera reached through its ONVIF services."""

    def __init__(self, config: DeviceConfig, context: DriverContext) -> None:
        self._config = config
        self._context = context
        self._log = context.logger
        self._session: OnvifSession | None = None
        self._unknown_topics: set[str] = set()
        self._snapshot_uri: str | None = None
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
        return [
            s.model_copy(update={"username": self._config.username, "password": password})
            for s in await self.session.streams()
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
                body = await response.content.read(MAX_SNAPSHOT_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeviceUnavailable(f"snapshot: {type(exc).__name__}") from exc
        if len(body) > MAX_SNAPSHOT_BYTES or not body.startswith(b"\xff\xd8"):
            raise ProtocolError("snapshot is not a JPEG of a sane size")
        return body

    async def events(self) -> AsyncIterator[DeviceEvent]:
        """Pull events for as long as the camera is there, re-subscribing after its reboots."""
        session = self.session
        renew_at = await self._subscribe(session)
        clears: Clears = {}
        disconnects = 0
        while True:
            now = time.monotonic()
            deadlines = [renew_at, *(due for due, _ in clears.values())]
            wait = max(1.0, min(LONG_POLL_MAX_S, min(deadlines) - now))
            try:
                messages = await session.pull(timedelta(seconds=wait))
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
            received = datetime.now(UTC)
            for message in messages:
                for event in self._normalise(message, received):
                    self._track_motion(event, clears)
                    yield event
            now = time.monotonic()
            for key, (due, event) in list(clears.items()):
                if due <= now:
                    del clears[key]
                    yield _cleared(event)
            if now >= renew_at:
                try:
                    renew_at = (
                        time.monotonic()
                        + (await session.renew(SUBSCRIPTION_LIFETIME)).total_seconds() * RENEW_AT
                    )
                except SubscriptionLost:
                    renew_at = await self._subscribe(session)

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

    def _normalise(self, message: Mapping[str, Any], received: datetime) -> list[DeviceEvent]:
        try:
            notification = notification_from_zeep(message)
        except ValueError as exc:
            self._log.warning("unreadable event from the camera skipped: %s", exc)
            return []
        events = normalize(notification, received)
        topic = notification.topic
        if (
            not is_known_topic(topic)
            and topic not in self._unknown_topics
            and len(self._unknown_topics) < MAX_UNKNOWN_TOPICS
        ):
            self._unknown_topics.add(topic)
            # Logged once per topic with its payload, so a user can contribute it as a sample.
            sample = json.dumps(message, default=str)[:4000]
            self._log.warning(
                "unknown event topic %s (kept as 'other'); payload: %s", topic, sample
            )
        return events

    def _track_motion(
        self,
        event: DeviceEvent,
        clears: dict[tuple[EventKind, str | None], tuple[float, DeviceEvent]],
    ) -> None:
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
        if session is not None:
            await session.unsubscribe()
            await session.close()
