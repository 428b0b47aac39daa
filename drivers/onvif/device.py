"""An ONVIF camera or doorbell as an SDK device: identity, streams, snapshot and an event feed."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from doorstep.drivers.onvif.ledger import Held, SubscriptionLedger
from doorstep.drivers.onvif.notification import (
    MAX_MESSAGES,
    Notification,
    NotificationBatch,
    notification_from_zeep,
    parse_notification_batch,
)
from doorstep.drivers.onvif.options import OnvifOptions
from doorstep.drivers.onvif.session import OnvifSession, SubscriptionLost, stop_if_cancelled
from doorstep.drivers.onvif.shaping import EventShaper
from doorstep.drivers.onvif.snapshot import BASIC_NOTE, SnapshotClient
from doorstep.drivers.onvif.talk import open_backchannel
from doorstep.sdk import (
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    DriverError,
    ProtocolError,
    StreamSource,
    TalkSink,
    Unsupported,
    Webhook,
    read_options,
)

DEFAULT_PORT = 80
SUBSCRIPTION_LIFETIME = timedelta(minutes=2)
"""Short, so a crash strands the camera's few subscription slots for two minutes at most."""
RENEW_AT = 0.5  # of the granted lifetime: a missed renewal still leaves time for another
STREAMS_PREFETCH_S = 10.0
LONG_POLL_MAX_S = 60.0
RESUBSCRIBE_TRIES = 5
PUSH_CONFIRM_S = 5.0  # how long the camera gets to prove it can reach our callback URL
UNSUBSCRIBE_S = 1.5
"""Unsubscribing at close is a courtesy (subscriptions expire anyway); past this, the sessions
are closed without it, inside the gateway's 3 s close budget."""
PUSH_RENEW_S = 10.0  # renewing often notices a rebooted camera quickly (no traffic otherwise)
EARLY_PULL_BACKOFF_S = (0.5, 30.0)
"""First and longest pause after a PullMessages that came back empty long before its timeout
(a device that ignores the timeout would otherwise be polled in a busy loop)."""


class OnvifDevice:
    """One camera reached through its ONVIF services."""

    def __init__(self, config: DeviceConfig, context: DriverContext) -> None:
        self._config = config
        self._context = context
        self._log = context.logger
        self._session: OnvifSession | None = None
        self._snapshot_uri: str | None = None
        self._first_push: list[Notification] = []
        self.dropped_messages = 0
        """Notification messages past MAX_MESSAGES per body, dropped since connecting."""
        self._unreadable = 0
        self._streams: list[StreamSource] = []
        self._early_pulls_logged = False
        self._prefetched: list[StreamSource] | None = None
        self._prefetch_error: DriverError | TimeoutError | None = None
        self._hook: Webhook[NotificationBatch] | None = None
        self._renew_at: float | None = None
        self._ledger = SubscriptionLedger(context.data_dir, self._log)
        self.options = read_options(OnvifOptions, config)
        self.auto_clear_s = self.options.motion_auto_clear_s
        self._shaper: EventShaper | None = None
        self._snapshots = SnapshotClient(
            context.http,
            config.host,
            config.username or "",
            config.password.get_secret_value() if config.password else "",
            self._log,
        )

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
        """Read the clock, pin the services, identify the camera, list its streams, and
        subscribe to its events (last, as cameras can be slow right after a subscription).

        A camera whose events cannot be subscribed is not connected: ProtocolError.
        """
        await self.close()
        session = self._session = self._open_session()
        info = await session.open()
        try:
            self._prefetched = await asyncio.wait_for(self._list_streams(), STREAMS_PREFETCH_S)
        except (DriverError, TimeoutError) as exc:
            self._prefetch_error = exc  # streams() reports it, as it would have itself
        if session.has_events:
            await self._free_leftovers(session)
            self._hook = await self._push_subscription(session)
            if self._hook is None:
                self._renew_at = await self._subscribe_once(session)
            await self._remember_subscriptions(session)
        return info

    @property
    def clock_offset(self) -> timedelta:
        """How far the camera's clock is from ours (evidence records it)."""
        return self._session.clock_offset if self._session else timedelta()

    async def streams(self) -> Sequence[StreamSource]:
        """Main and sub streams with the camera's credentials (listed while connecting)."""
        prefetched, self._prefetched = self._prefetched, None
        failed, self._prefetch_error = self._prefetch_error, None
        if prefetched is not None:
            return prefetched
        if failed is not None:
            raise failed
        return await self._list_streams()

    async def _list_streams(self) -> list[StreamSource]:
        password = self._config.password
        sources = await self.session.streams()
        # A speaker (audio output) is what the RTSP backchannel plays through.
        speaker = await self.session.has_backchannel() if sources else False
        self._streams = [
            s.model_copy(
                update={
                    "username": self._config.username,
                    "password": password,
                    "backchannel": speaker and s.url.startswith("rtsp://"),
                }
            )
            for s in sources
        ]
        return self._streams

    async def open_talk(self) -> TalkSink:
        """Open the main stream's audio backchannel; `Unsupported` when the camera has none."""
        streams = self._streams or await self.streams()
        if not streams:
            raise Unsupported("this camera has no speaker (it offers no stream)")
        return await open_backchannel(streams[0], allow_basic=self._context.rtsp_allow_basic)

    async def snapshot(self) -> bytes:
        """One JPEG from the camera's snapshot URI (see snapshot.py)."""
        if self._snapshot_uri is None:
            self._snapshot_uri = await self.session.snapshot_uri()
        if self._snapshot_uri is None:
            raise ProtocolError("the camera has no snapshot URI")
        return await self._snapshots.fetch(self._snapshot_uri)

    async def diagnostics(self) -> dict[str, object]:
        """What a support request needs: subscription state, quirks noticed, counters."""
        notes = []
        if self._snapshots.basic:
            notes.append(BASIC_NOTE)
        session = self._session
        return {
            "notes": notes,
            "snapshot_auth": "basic" if self._snapshots.basic else "digest",
            "subscribed": bool(session and (session.subscription_address or session.push_address)),
            "dropped_messages": self.dropped_messages,
            "unreadable_messages": self._unreadable,
            "known_states": self._shaper.known_states if self._shaper else 0,
        }

    async def events(self) -> AsyncIterator[DeviceEvent]:
        """Events for as long as the camera is there: by callback when it can reach us, else by
        PullPoint long-poll; re-subscribing after the camera's reboots."""
        session = self.session
        if not session.has_events:
            self._log.info("the camera offers no event service; streams only")
            await asyncio.Event().wait()
        hook, self._hook = self._hook, None
        renew_at, self._renew_at = self._renew_at, None
        if hook is None and renew_at is None:  # events() again on the same connection
            renew_at = await self._subscribe(session)
        source = self._push_events(session, hook) if hook else self._pull_events(session, renew_at)
        shaper = self._shaper = EventShaper(
            self._log, self.auto_clear_s, self.options.doorbell_input
        )
        try:
            async for batch in source:
                for notification in batch:
                    for event in shaper.shape(notification):
                        yield event
                for event in shaper.due_clears():
                    yield event
        finally:
            if hook is not None:
                await hook.close()

    def _next_clear_s(self) -> float:
        return LONG_POLL_MAX_S if self.auto_clear_s <= 0 else max(1.0, self.auto_clear_s / 4)

    async def _pull_events(
        self, session: OnvifSession, renew_at: float | None
    ) -> AsyncIterator[list[Notification]]:
        """Batches of notifications from PullPoint long-polls (empty batches tick the clock)."""
        if renew_at is None:
            renew_at = await self._subscribe(session)
        disconnects = 0
        early = 0
        while True:
            stop_if_cancelled()
            wait = math.ceil(
                max(1.0, min(LONG_POLL_MAX_S, renew_at - time.monotonic(), self._next_clear_s()))
            )
            started = time.monotonic()
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
            if messages or time.monotonic() - started >= wait / 2:
                early = 0
            else:
                early += 1
                await asyncio.sleep(self._early_pull_pause(early, wait))
            if time.monotonic() >= renew_at:
                try:
                    granted = await session.renew(SUBSCRIPTION_LIFETIME)
                    renew_at = time.monotonic() + granted.total_seconds() * RENEW_AT
                except SubscriptionLost:
                    renew_at = await self._subscribe(session)

    def _early_pull_pause(self, early: int, wait: float) -> float:
        """How long to pause after the `early`-th empty pull in a row that returned too soon."""
        if early == 1 and not self._early_pulls_logged:
            self._early_pulls_logged = True
            self._log.info(
                "the camera answers PullMessages before its %d s timeout; backing off", wait
            )
        first, longest = EARLY_PULL_BACKOFF_S
        return float(min(first * 2 ** min(early - 1, 16), longest, wait))

    async def _push_subscription(self, session: OnvifSession) -> Webhook[NotificationBatch] | None:
        """A callback subscription the camera has proved it can deliver to, or None."""
        registry = self._context.webhooks
        if registry is None or self.options.events == "pullpoint":
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
            stop_if_cancelled()
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
                    await self._remember_subscriptions(session)
                renew_at = time.monotonic() + PUSH_RENEW_S

    async def _subscribe_once(self, session: OnvifSession) -> float:
        """Subscribe while connecting: one try, as the supervisor backs off a refusal (full
        slots stay full for minutes)."""
        try:
            granted = await session.subscribe(SUBSCRIPTION_LIFETIME)
        except ProtocolError as exc:
            raise ProtocolError(f"events not subscribed: {exc}") from exc
        return time.monotonic() + granted.total_seconds() * RENEW_AT

    async def _subscribe(self, session: OnvifSession) -> float:
        """Subscribe again (retrying briefly: a camera just back from reboot may refuse at
        first)."""
        for attempt in range(RESUBSCRIBE_TRIES):
            try:
                granted = await session.subscribe(SUBSCRIPTION_LIFETIME)
                await self._remember_subscriptions(session)
                return time.monotonic() + granted.total_seconds() * RENEW_AT
            except (SubscriptionLost, ProtocolError) as exc:
                if attempt == RESUBSCRIBE_TRIES - 1:
                    raise ProtocolError(f"events not subscribed: {exc}") from exc
                await asyncio.sleep(0.5 * 2**attempt)
        raise ProtocolError("events not subscribed")  # unreachable; keeps mypy content

    async def _free_leftovers(self, session: OnvifSession) -> None:
        """Unsubscribe what an earlier run of ours left on the camera (it crashed, say)."""
        for held in await self._ledger.load():
            try:
                await session.unsubscribe_leftover(held.address, held.push)
                self._log.info("freed an event subscription an earlier run left on the camera")
            except DriverError as exc:  # expired already, most likely
                self._log.debug("leftover subscription not freed: %s", exc)
        await self._ledger.save([])

    async def _remember_subscriptions(self, session: OnvifSession) -> None:
        """Write the camera's references to our subscriptions to the ledger."""
        held = [Held(session.subscription_address)] if session.subscription_address else []
        if session.push_address:
            held.append(Held(session.push_address, push=True))
        await self._ledger.save(held)

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

    async def close(self) -> None:
        """Unsubscribe (frees the camera's slot) and close the sessions."""
        session, self._session = self._session, None
        if session is None:
            return
        hook, self._hook = self._hook, None
        try:
            if hook is not None:  # connected, but events() never ran
                await hook.close()
            kept = await asyncio.wait_for(session.unsubscribe(), UNSUBSCRIBE_S)
            # What the camera did not hear about stays in the ledger for the next start.
            await self._ledger.save([Held(a) for a in kept])
        except TimeoutError:
            self._log.debug("unsubscribe at close timed out")
        finally:
            await session.close()  # whatever happened above: no HTTP session outlives us
