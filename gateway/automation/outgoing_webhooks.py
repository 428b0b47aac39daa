"""Outgoing webhooks: the owner's rules, kept in the database, fed by the event bus.

Unrelated to the `webhooks:` config section (the ONVIF cameras' incoming callbacks). Each rule
POSTs a signed JSON body to a URL of the owner's choice when a camera event matches it. The bus
handler only matches, renders and queues (each rule has its own bounded queue and one delivery
in flight), so a slow or hanging receiver holds up nothing but its own rule.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import aiohttp

from doorstep.gateway.automation.webhook_delivery import (
    Clock,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    RuleDeliverer,
    Target,
)
from doorstep.gateway.automation.webhook_fields import FieldValue, event_fields, sample_fields
from doorstep.gateway.automation.webhook_rule import RuleSettings, loggable_url
from doorstep.gateway.automation.webhook_signing import new_secret
from doorstep.gateway.automation.webhook_template import BodyTemplate, BodyTooLarge, TemplateError
from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.events import CameraEventReceived
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRepository, StorageError
from doorstep.gateway.storage.repositories.webhook_rules import (
    WebhookRuleRecord,
    WebhookRuleRepository,
)
from doorstep.sdk import EventKind

_log = logging.getLogger(__name__)

MAX_RULES = 32


class NoSuchRule(LookupError):
    """No outgoing webhook rule has this id."""


class TooManyRules(Exception):
    """MAX_RULES rules exist already."""


class RuleUnreadable(Exception):
    """The rule's stored URL, secret or template cannot be read (the gateway's key changed)."""


@dataclass(frozen=True, slots=True)
class RuleState:
    """A rule as the API shows it: its settings, times and delivery status (never the secret)."""

    id: int
    settings: RuleSettings | None
    """None when the stored URL or template cannot be read (`problem` says why)."""
    name: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime
    queued: int
    queued_bytes: int
    sending: bool
    """A delivery is in flight or waiting to be retried."""
    dropped: int
    last: DeliveryStatus | None
    problem: str | None = None


@dataclass
class _Rule:
    record: WebhookRuleRecord
    settings: RuleSettings | None
    secret: str | None
    deliverer: RuleDeliverer | None
    problem: str | None = None


class OutgoingWebhooks:
    """The rules, their deliverers and the bus subscription that feeds them."""

    def __init__(
        self,
        bus: EventBus,
        rules: WebhookRuleRepository,
        cameras: CameraRepository,
        box: SecretBox,
        *,
        gateway: str,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._bus = bus
        self._repo = rules
        self._cameras = cameras
        self._box = box
        self.gateway = gateway
        """The `gateway` template field, e.g. "Doorstep 0.1.0"."""
        self._policy = policy or RetryPolicy()
        self._clock = clock or Clock()
        self._rules: dict[int, _Rule] = {}
        self._http: aiohttp.ClientSession | None = None
        self._subscription: Subscription[CameraEventReceived] | None = None

    async def start(self) -> None:
        """Load the rules and begin consuming the bus (nothing is sent until an event matches)."""
        self._http = aiohttp.ClientSession(
            trust_env=False,  # no proxy from the environment: the owner chose the host
            timeout=aiohttp.ClientTimeout(total=self._policy.timeout_s),
            headers={"User-Agent": self.gateway.replace(" ", "/", 1)},
            connector=aiohttp.TCPConnector(limit=2 * MAX_RULES),
        )
        try:
            records = await self._repo.list()
        except BaseException:
            await self._http.close()
            raise
        for record in records:
            self._rules[record.id] = self._load(record)
        self._subscription = self._bus.subscribe(
            "outgoing_webhooks", self._handle, (CameraEventReceived,)
        )

    async def stop(self) -> None:
        """Stop consuming and delivering; queued deliveries are dropped."""
        if self._subscription is not None:
            await self._subscription.close()
        for rule in self._rules.values():
            if rule.deliverer is not None:
                await rule.deliverer.close()
        self._rules.clear()
        if self._http is not None:
            await self._http.close()

    def _load(self, record: WebhookRuleRecord) -> _Rule:
        try:
            url = self._box.open(record.url_sealed)
            secret = self._box.open(record.secret_sealed)
            template = BodyTemplate(record.template)
            kinds = frozenset(EventKind(k) for k in record.kinds)
        except (ValueError, TemplateError) as exc:
            _log.warning("outgoing webhook %r cannot be used: %s", record.name, exc)
            problem = f"{exc}: delete this webhook and create it again"
            return _Rule(record, None, None, None, problem)
        settings = RuleSettings(
            record.name, record.enabled, url, kinds, frozenset(record.cameras),
            record.include_ends, template,
        )  # fmt: skip
        return _Rule(record, settings, secret, self._deliverer(record.name, url, secret))

    def _deliverer(self, name: str, url: str, secret: str) -> RuleDeliverer:
        if self._http is None:
            raise RuntimeError("outgoing webhooks are not started")
        return RuleDeliverer(name, Target(url, secret), self._http, self._policy, self._clock)

    async def _camera_name(self, camera_id: str) -> str:
        try:
            camera = await self._cameras.get(camera_id)
        except StorageError:
            return camera_id
        return camera.name if camera is not None else camera_id

    async def _handle(self, message: CameraEventReceived) -> None:
        matching = [
            rule
            for rule in self._rules.values()
            if rule.settings is not None and rule.settings.matches(message)
        ]
        if not matching:
            return
        name = await self._camera_name(message.camera_id)
        fields = event_fields(message, name, uuid.uuid4().hex, self.gateway)
        for rule in matching:
            self._queue(rule, fields, message.event.kind.value)

    def _queue(self, rule: _Rule, fields: Mapping[str, FieldValue], event: str) -> None:
        if rule.settings is None or rule.deliverer is None:
            return
        try:
            body = rule.settings.template.render(fields)
        except BodyTooLarge as exc:
            _log.warning("outgoing webhook %r: %s, not sent", rule.record.name, exc)
            return
        delivery = Delivery(uuid.uuid4().hex, event, body, self._clock.monotonic())
        rule.deliverer.offer(delivery)

    def _state(self, rule: _Rule) -> RuleState:
        record, deliverer = rule.record, rule.deliverer
        return RuleState(
            id=record.id, settings=rule.settings, name=record.name, enabled=record.enabled,
            created_at=record.created_at, updated_at=record.updated_at,
            secret_rotated_at=record.secret_rotated_at,
            queued=deliverer.queued if deliverer else 0,
            queued_bytes=deliverer.queued_bytes if deliverer else 0,
            sending=deliverer.sending if deliverer else False,
            dropped=deliverer.dropped if deliverer else 0,
            last=deliverer.last if deliverer else None, problem=rule.problem,
        )  # fmt: skip

    def _rule(self, rule_id: int) -> _Rule:
        rule = self._rules.get(rule_id)
        if rule is None:
            raise NoSuchRule(rule_id)
        return rule

    def rules(self) -> list[RuleState]:
        """Every rule, oldest first."""
        return [self._state(self._rules[i]) for i in sorted(self._rules)]

    def get(self, rule_id: int) -> RuleState:
        """One rule; `NoSuchRule` if there is none."""
        return self._state(self._rule(rule_id))

    def _record(self, base: WebhookRuleRecord, settings: RuleSettings, secret: str,
                now: datetime, rotated: bool) -> WebhookRuleRecord:  # fmt: skip
        return replace(
            base, name=settings.name, enabled=settings.enabled,
            url_sealed=self._box.seal(settings.url), kinds=tuple(sorted(settings.kinds)),
            cameras=tuple(sorted(settings.cameras)), include_ends=settings.include_ends,
            template=settings.template.text, secret_sealed=self._box.seal(secret),
            updated_at=now, secret_rotated_at=now if rotated else base.secret_rotated_at,
        )  # fmt: skip

    async def create(self, settings: RuleSettings) -> tuple[RuleState, str]:
        """Add a rule with a new signing secret; the secret is returned this once."""
        if len(self._rules) >= MAX_RULES:
            raise TooManyRules(f"at most {MAX_RULES} outgoing webhooks")
        now, secret = datetime.now(UTC), new_secret()
        blank = WebhookRuleRecord(0, "", True, b"", (), (), False, "", b"", now, now, now)
        record = await self._repo.add(self._record(blank, settings, secret, now, rotated=True))
        rule = _Rule(record, settings, secret, self._deliverer(record.name, settings.url, secret))
        self._rules[record.id] = rule
        _log.info("outgoing webhook %r to %s added", record.name, loggable_url(settings.url))
        return self._state(rule), secret

    async def update(self, rule_id: int, settings: RuleSettings) -> RuleState:
        """Replace a rule's settings (its secret stays); queued deliveries go to the new URL.

        `RuleUnreadable` for a rule whose stored values cannot be read: delete and re-create it.
        """
        rule = self._rule(rule_id)
        if rule.secret is None:
            raise RuleUnreadable(rule.problem or "the rule cannot be read")
        record = self._record(rule.record, settings, rule.secret, datetime.now(UTC), False)
        if not await self._repo.update(record):
            raise NoSuchRule(rule_id)
        self._replace(rule_id, rule, record, settings, rule.secret)
        return self._state(self._rules[rule_id])

    def _replace(self, rule_id: int, rule: _Rule, record: WebhookRuleRecord,
                       settings: RuleSettings, secret: str) -> None:  # fmt: skip
        deliverer = rule.deliverer
        if deliverer is None:
            deliverer = self._deliverer(record.name, settings.url, secret)
        deliverer.name, deliverer.target = record.name, Target(settings.url, secret)
        if not settings.enabled:
            deliverer.clear()
        self._rules[rule_id] = _Rule(record, settings, secret, deliverer)

    async def rotate_secret(self, rule_id: int) -> tuple[RuleState, str]:
        """Give a rule a new signing secret, returned this once."""
        rule = self._rule(rule_id)
        if rule.settings is None:
            raise RuleUnreadable(rule.problem or "the rule cannot be read")
        secret = new_secret()
        record = self._record(rule.record, rule.settings, secret, datetime.now(UTC), True)
        if not await self._repo.update(record):
            raise NoSuchRule(rule_id)
        self._replace(rule_id, rule, record, rule.settings, secret)
        return self._state(self._rules[rule_id]), secret

    async def delete(self, rule_id: int) -> RuleState:
        """Delete a rule; its queued deliveries are dropped."""
        rule = self._rule(rule_id)
        state = self._state(rule)
        await self._repo.delete(rule_id)
        self._rules.pop(rule_id, None)
        if rule.deliverer is not None:
            await rule.deliverer.close()
        return state

    async def send_test(self, rule_id: int) -> DeliveryStatus:
        """Send a made-up doorbell press to the rule's URL once, now (disabled rules too)."""
        rule = self._rule(rule_id)
        if rule.settings is None or rule.deliverer is None:
            raise RuleUnreadable(rule.problem or "the rule cannot be read")
        camera = next(iter(sorted(rule.settings.cameras)), None)
        fields = sample_fields(self.gateway) if camera is None else sample_fields(
            self.gateway, camera, await self._camera_name(camera)
        )  # fmt: skip
        body = rule.settings.template.render(fields)
        delivery = Delivery(uuid.uuid4().hex, "test", body, self._clock.monotonic())
        return await rule.deliverer.test(delivery)
