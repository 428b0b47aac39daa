"""Console administration: add a user, verify the audit log (both work while the gateway runs)."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys

from doorstep.gateway.app import DB_FILENAME
from doorstep.gateway.audit import AuditLog
from doorstep.gateway.auth import AccountService, AuthError, Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import Database, SessionRepository, UserRepository

PASSWORD_ENV = "DOORSTEP_PASSWORD"  # noqa: S105  # the name of a variable, not a password


async def _open(config: Config) -> tuple[Database, AccountService, AuditLog]:
    database = await Database.open(config.storage.data_dir / DB_FILENAME)
    box = await asyncio.to_thread(SecretBox.load_or_create, config.storage.data_dir)
    audit = AuditLog(database.durable)
    accounts = AccountService(
        UserRepository(database.durable), SessionRepository(database.durable), box, audit
    )
    return database, accounts, audit


def add_user(config: Config, username: str, role: str) -> int:
    """Create an account; the password comes from $DOORSTEP_PASSWORD or a prompt."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            print(f"doorstep user add: set {PASSWORD_ENV} or run it in a terminal", file=sys.stderr)
            return 2
        password = getpass.getpass(f"Password for {username}: ")
        if getpass.getpass("Again: ") != password:
            print("doorstep user add: the passwords differ", file=sys.stderr)
            return 2

    async def create() -> int:
        database, accounts, _ = await _open(config)
        try:
            console = Principal(0, "console", "owner")
            user = await accounts.create_user(console, username, password, role, "console")
        except AuthError as exc:
            print(f"doorstep user add: {exc}", file=sys.stderr)
            return 1
        finally:
            await database.close()
        print(f"created {user.role} {user.username!r} (id {user.id})")
        return 0

    return asyncio.run(create())


def verify_audit(config: Config) -> int:
    """Walk the audit log's hash chain; exit 1 at the first broken row."""

    async def verify() -> int:
        database, _, audit = await _open(config)
        try:
            result = await audit.verify()
        finally:
            await database.close()
        if result.ok:
            print(f"audit log ok: {result.checked} row(s), chain intact")
            return 0
        print(f"audit log BROKEN at row {result.first_bad_seq}: {result.reason} "
              f"({result.checked} row(s) before it are intact)")  # fmt: skip
        return 1

    return asyncio.run(verify())
