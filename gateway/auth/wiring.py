"""The storage, secret box, audit log and account service, wired the one way the gateway and
the console's admin commands both use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth.accounts import AccountService
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import Storage


@dataclass(frozen=True, slots=True)
class AccountsCore:
    """What holds the accounts: storage, the secret box, the audit log, the account service."""

    storage: Storage
    box: SecretBox
    audit: AuditLog
    refusals: RefusalAudit
    accounts: AccountService


async def open_accounts(data_dir: Path) -> AccountsCore:
    """Open the data directory's database and secret box and build the services on them; the
    caller closes `storage`. Needs nothing of the cameras (nor their secrets)."""
    storage = await Storage.open(data_dir)
    try:
        box = await asyncio.to_thread(SecretBox.load_or_create, data_dir)
    except BaseException:
        await storage.close()
        raise
    audit = AuditLog(storage.audit)
    refusals = RefusalAudit(audit)
    accounts = AccountService(storage.users, storage.sessions, box, audit, refusals)
    return AccountsCore(storage, box, audit, refusals, accounts)
