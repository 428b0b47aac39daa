"""Every repository, built once over the open database: what the rest of the gateway holds."""

from __future__ import annotations

from pathlib import Path

from doorstep.gateway.storage.db import DB_FILENAME, Database
from doorstep.gateway.storage.repositories import (
    AgencyRepository,
    AuditCheckpointRepository,
    AuditRepository,
    CameraRepository,
    ClipRepository,
    EventRepository,
    EvidencePackageRepository,
    HoldRepository,
    PoliceRequestRepository,
    PushSubscriptionRepository,
    SessionRepository,
    SettingsRepository,
    ShareRepository,
    UserRepository,
    WebhookRuleRepository,
)


class Storage:
    """The repositories; each picked the connection (and durability) its rows need."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.users = UserRepository.of(database)
        self.sessions = SessionRepository.of(database)
        self.audit = AuditRepository.of(database)
        self.audit_checkpoints = AuditCheckpointRepository.of(database)
        self.cameras = CameraRepository.of(database)
        self.events = EventRepository.of(database)
        self.clips = ClipRepository.of(database)
        self.holds = HoldRepository.of(database)
        self.push = PushSubscriptionRepository.of(database)
        self.settings = SettingsRepository.of(database)
        self.webhook_rules = WebhookRuleRepository.of(database)
        self.shares = ShareRepository.of(database)
        self.agencies = AgencyRepository.of(database)
        self.police_requests = PoliceRequestRepository.of(database)
        self.evidence_packages = EvidencePackageRepository.of(database)

    @classmethod
    async def open(cls, data_dir: Path) -> Storage:
        """Open (creating and migrating if needed) the database in a data directory."""
        return cls(await Database.open(data_dir / DB_FILENAME))

    async def schema_version(self) -> int:
        """The schema version; raises `StorageError` when the database cannot be read."""
        return await self.database.schema_version()

    async def close(self) -> None:
        """Close the database."""
        await self.database.close()
