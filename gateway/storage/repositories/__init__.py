"""One repository per aggregate; each takes the connection whose durability it needs."""

from doorstep.gateway.storage.repositories.audit import AuditRepository, AuditRow
from doorstep.gateway.storage.repositories.cameras import CameraRecord, CameraRepository
from doorstep.gateway.storage.repositories.clips import ClipQuery, ClipRecord, ClipRepository
from doorstep.gateway.storage.repositories.events import EventRecord, EventRepository
from doorstep.gateway.storage.repositories.holds import HoldRecord, HoldRepository
from doorstep.gateway.storage.repositories.push import (
    PushSubscriptionRecord,
    PushSubscriptionRepository,
)
from doorstep.gateway.storage.repositories.sessions import (
    SessionAccount,
    SessionRecord,
    SessionRepository,
)
from doorstep.gateway.storage.repositories.settings import SettingRecord, SettingsRepository
from doorstep.gateway.storage.repositories.shares import (
    ShareAccessRecord,
    ShareItemRecord,
    ShareRecord,
    ShareRepository,
)
from doorstep.gateway.storage.repositories.users import UserRecord, UserRepository
from doorstep.gateway.storage.repositories.webhook_rules import (
    WebhookRuleRecord,
    WebhookRuleRepository,
)

__all__ = [
    "AuditRepository",
    "AuditRow",
    "CameraRecord",
    "CameraRepository",
    "ClipQuery",
    "ClipRecord",
    "ClipRepository",
    "EventRecord",
    "EventRepository",
    "HoldRecord",
    "HoldRepository",
    "PushSubscriptionRecord",
    "PushSubscriptionRepository",
    "SessionAccount",
    "SessionRecord",
    "SessionRepository",
    "SettingRecord",
    "SettingsRepository",
    "ShareAccessRecord",
    "ShareItemRecord",
    "ShareRecord",
    "ShareRepository",
    "UserRecord",
    "UserRepository",
    "WebhookRuleRecord",
    "WebhookRuleRepository",
]
