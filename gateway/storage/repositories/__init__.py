"""One repository per aggregate; each takes the connection whose durability it needs."""

from doorstep.gateway.storage.repositories.agencies import AgencyRecord, AgencyRepository
from doorstep.gateway.storage.repositories.audit import (
    AuditRepository,
    AuditRow,
    AuditSnapshot,
    open_snapshot,
)
from doorstep.gateway.storage.repositories.audit_checkpoints import (
    AuditCheckpointRepository,
    CheckpointRecord,
)
from doorstep.gateway.storage.repositories.cameras import CameraRecord, CameraRepository
from doorstep.gateway.storage.repositories.clips import ClipQuery, ClipRecord, ClipRepository
from doorstep.gateway.storage.repositories.events import EventRecord, EventRepository
from doorstep.gateway.storage.repositories.evidence_packages import (
    EvidencePackageRepository,
    PackageRecord,
)
from doorstep.gateway.storage.repositories.holds import HoldRecord, HoldRepository
from doorstep.gateway.storage.repositories.police_requests import (
    OPEN_STATUSES,
    PoliceRequestRepository,
    ReceiptRecord,
    RequestItemRecord,
    RequestRecord,
)
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
    "OPEN_STATUSES",
    "AgencyRecord",
    "AgencyRepository",
    "AuditCheckpointRepository",
    "AuditRepository",
    "AuditRow",
    "AuditSnapshot",
    "CameraRecord",
    "CameraRepository",
    "CheckpointRecord",
    "ClipQuery",
    "ClipRecord",
    "ClipRepository",
    "EventRecord",
    "EventRepository",
    "EvidencePackageRepository",
    "HoldRecord",
    "HoldRepository",
    "PackageRecord",
    "PoliceRequestRepository",
    "PushSubscriptionRecord",
    "PushSubscriptionRepository",
    "ReceiptRecord",
    "RequestItemRecord",
    "RequestRecord",
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
    "open_snapshot",
]
