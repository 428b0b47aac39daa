"""The storage, secret box, signing key, audit log and account service, wired the one way the
gateway and the console's admin commands both use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.checkpoints import Checkpointer
from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth.accounts import AccountService
from doorstep.gateway.config.server import AuditConfig
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.keys.signing import SigningKey
from doorstep.gateway.storage import Storage


@dataclass(frozen=True, slots=True)
class AccountsCore:
    """What holds the accounts: storage, the secret box, the audit log, the account service."""

    storage: Storage
    box: SecretBox
    audit: AuditLog
    refusals: RefusalAudit
    accounts: AccountService
    signing_key: SigningKey
    checkpoints: Checkpointer


async def open_accounts(data_dir: Path, audit_config: AuditConfig | None = None) -> AccountsCore:
    """Open the data directory's database, secret box and signing key and build the services on
    them; the caller closes `storage`. Needs nothing of the cameras (nor their secrets)."""
    storage = await Storage.open(data_dir)
    try:
        box = await asyncio.to_thread(SecretBox.load_or_create, data_dir)
        signing_key = await asyncio.to_thread(SigningKey.load_or_create, data_dir)
    except BaseException:
        await storage.close()
        raise
    audit = AuditLog(storage.audit)
    every = audit_config or AuditConfig()
    checkpoints = Checkpointer(
        storage.audit, storage.audit_checkpoints, signing_key, every.checkpoint_rows,
        every.checkpoint_minutes * 60.0,
    )  # fmt: skip
    audit.watch(checkpoints.appended)
    refusals = RefusalAudit(audit)
    accounts = AccountService(storage.users, storage.sessions, box, audit, refusals)
    return AccountsCore(storage, box, audit, refusals, accounts, signing_key, checkpoints)
