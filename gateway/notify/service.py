"""Web Push for the gateway: the VAPID key, the owner's switch, residents' subscriptions and
the dispatcher, behind one object the web API calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.config.push import PushConfig
from doorstep.gateway.notify.audience import Audience
from doorstep.gateway.notify.dispatcher import PushDispatcher, local_now
from doorstep.gateway.notify.endpoints import EndpointPolicy, EndpointRefused, check_keys
from doorstep.gateway.notify.payload import trial_notification
from doorstep.gateway.notify.prefs import Prefs
from doorstep.gateway.notify.sender import PushSender, SendResult
from doorstep.gateway.notify.vapid import KEY_FILE, VapidKeyError, VapidKeys, open_keys
from doorstep.gateway.storage import Storage
from doorstep.gateway.storage.repositories import PushSubscriptionRecord

_log = logging.getLogger(__name__)

SETTING_ENABLED = "push.enabled"
"""The owner's switch in the `settings` table (absent: on)."""
MAX_DEVICES = 20
"""Subscriptions per account: phones, tablets and browsers of one person, with room to spare."""
MAX_LABEL = 64
TEST_EVERY_S = 5.0


class PushError(Exception):
    """A push request the service refuses; `code` is stable for the UI, the text for people."""

    code = "push_error"


class PushOff(PushError):
    """Push is turned off (by the owner, or in the config)."""

    code = "push_off"


class PushUnavailable(PushError):
    """The VAPID key cannot be read: push stays off until the owner fixes the file."""

    code = "push_unavailable"


class TooManyDevices(PushError):
    """The account has as many subscriptions as it may."""

    code = "too_many_devices"


class BadSubscription(PushError):
    """The endpoint, keys or label cannot be used."""

    code = "bad_subscription"


class TestTooSoon(PushError):
    """A test message for this device was sent a moment ago."""

    code = "test_too_soon"


def clean_label(label: str) -> str:
    """A device name fit to show: trimmed, printable, at most MAX_LABEL characters."""
    label = " ".join(label.split())
    if len(label) > MAX_LABEL or not label.isprintable():
        raise BadSubscription(f"the device name needs at most {MAX_LABEL} printable characters")
    return label


class PushService:
    """Everything about Web Push; start it after storage and the bus, stop it before them."""

    def __init__(
        self,
        config: PushConfig,
        data_dir: Path,
        storage: Storage,
        bus: EventBus,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], datetime] = local_now,
    ) -> None:
        self.config = config
        self._data_dir = data_dir
        self._storage = storage
        self._bus = bus
        self._session = session
        self.clock = clock
        """The local wall clock quiet hours are read from (tests set it)."""
        self.policy = EndpointPolicy.of(config.allowed_endpoint_hosts)
        self.keys: VapidKeys | None = None
        self.unavailable: str | None = None
        """Why push cannot work (a damaged key file), for the owner."""
        self.owner_enabled = True
        self.dispatcher: PushDispatcher | None = None
        self._tested: dict[int, float] = {}

    async def start(self) -> None:
        """Read the owner's switch and the key (made on first use), and follow the bus."""
        setting = await self._storage.settings.get(SETTING_ENABLED)
        self.owner_enabled = setting is None or setting.value is not False
        if not self.config.enabled:
            return
        try:
            self.keys = await open_keys(self._data_dir)
        except (VapidKeyError, OSError) as exc:
            self.unavailable = str(exc)
            _log.error(
                "Web Push is off: %s. Move %s out of the data directory to make a new key "
                "(every device then has to turn notifications on again).",
                exc,
                KEY_FILE,
            )
            return
        sender = PushSender(self._session, self.keys, self.config.contact, self.policy)
        self.dispatcher = PushDispatcher(
            self._bus, self._storage.push, self._storage.cameras,
            Audience(self._storage.users), sender, lambda: self.active, self._local_time,
        )  # fmt: skip
        self.dispatcher.start()

    async def stop(self) -> None:
        """Stop sending (messages still being retried are dropped)."""
        if self.dispatcher is not None:
            await self.dispatcher.stop()

    def _local_time(self) -> datetime:
        return self.clock()  # looked up at each use: tests replace `clock` after start

    @property
    def active(self) -> bool:
        """Whether notifications go out now: allowed by the config and the owner, key readable."""
        return self.config.enabled and self.owner_enabled and self.keys is not None

    @property
    def public_key(self) -> str:
        """The `applicationServerKey` browsers subscribe with ('' without a key)."""
        return "" if self.keys is None else self.keys.public_key

    async def set_enabled(self, enabled: bool, actor: str) -> None:
        """The owner turns outbound push on or off (stored; takes effect at once)."""
        await self._storage.settings.put(SETTING_ENABLED, enabled, datetime.now(UTC), actor)
        self.owner_enabled = enabled

    def _check_sending(self) -> None:
        if self.unavailable is not None:
            raise PushUnavailable("push is unavailable: the gateway's push key cannot be read")
        if not self.active:
            raise PushOff("push notifications are turned off on this gateway")

    async def subscribe(
        self, user_id: int, endpoint: str, p256dh: str, auth: str, label: str, prefs: Prefs
    ) -> PushSubscriptionRecord:
        """Store a device's subscription (or update the one with the same endpoint)."""
        self._check_sending()
        try:
            self.policy.check(endpoint)
            check_keys(p256dh, auth)
        except EndpointRefused as exc:
            raise BadSubscription(str(exc)) from None
        record = await self._storage.push.upsert(
            user_id, endpoint, p256dh, auth, clean_label(label),
            prefs.model_dump(mode="json"), datetime.now(UTC), MAX_DEVICES,
        )  # fmt: skip
        if record is None:
            raise TooManyDevices(
                f"at most {MAX_DEVICES} devices per account; remove one in Settings first"
            )
        return record

    async def subscriptions(self, user_id: int) -> list[PushSubscriptionRecord]:
        """The account's own subscriptions."""
        return await self._storage.push.for_user(user_id)

    async def own(self, user_id: int, subscription_id: int) -> PushSubscriptionRecord | None:
        """One of the account's subscriptions (None for another account's: same as missing)."""
        record = await self._storage.push.get(subscription_id)
        return record if record is not None and record.user_id == user_id else None

    async def change(
        self, user_id: int, subscription_id: int, label: str | None, prefs: Prefs | None
    ) -> PushSubscriptionRecord | None:
        """Rename a device or change what it is told about."""
        if await self.own(user_id, subscription_id) is None:
            return None
        return await self._storage.push.update(
            subscription_id, datetime.now(UTC),
            None if label is None else clean_label(label),
            None if prefs is None else prefs.model_dump(mode="json"),
        )  # fmt: skip

    async def remove(self, user_id: int, subscription_id: int) -> bool:
        """Forget one of the account's devices."""
        if await self.own(user_id, subscription_id) is None:
            return False
        return await self._storage.push.delete(subscription_id)

    async def send_test(self, user_id: int, subscription_id: int) -> SendResult | None:
        """Send a test notification to one of the account's devices (once per TEST_EVERY_S);
        None when it is not theirs."""
        record = await self.own(user_id, subscription_id)
        if record is None:
            return None
        self._check_sending()
        now = asyncio.get_running_loop().time()
        self._tested = {k: t for k, t in self._tested.items() if now - t < TEST_EVERY_S}
        if subscription_id in self._tested:
            raise TestTooSoon("a test was sent a moment ago; wait a few seconds")
        self._tested[subscription_id] = now  # before the send: a burst sends one
        if self.dispatcher is None:  # active implies started; checked for the type's sake
            raise PushOff("push notifications are turned off on this gateway")
        return await self.dispatcher.deliver(
            record, trial_notification(datetime.now(UTC)), retry=False
        )
