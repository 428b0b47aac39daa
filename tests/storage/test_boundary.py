"""The storage boundary: repositories built once pick their own durability, raise storage
errors, and nothing above storage touches the database driver."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.storage import (
    CameraRecord,
    Conflict,
    Storage,
    StorageError,
    UserRepository,
)

ROOT = Path(__file__).resolve().parents[2]
DRIVER_MODULES = {"sqlite3", "aiosqlite", "_sqlite3"}
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path)
    yield opened
    await opened.close()


def _driver_uses(path: Path) -> list[str]:
    """Where a module imports the database driver or names it (`sqlite3.Error`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Name):
            names = [node.id]
        if any(name.split(".")[0] in DRIVER_MODULES for name in names):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_outside_storage_touches_the_database_driver() -> None:
    storage = ROOT / "gateway" / "storage"
    sources = [
        path
        for folder in ("gateway", "drivers", "protocols", "simulator", "webui")
        for path in (ROOT / folder).rglob("*.py")
        if storage not in path.parents
    ]
    assert len(sources) > 50  # the walk found the tree
    offenders = [where for path in sources for where in _driver_uses(path)]
    assert offenders == []


def test_the_walk_sees_a_driver_import(tmp_path: Path) -> None:
    module = ROOT / "gateway" / "storage" / "db.py"  # it does import sqlite3
    assert _driver_uses(module)


async def test_repositories_pick_their_durability(storage: Storage) -> None:
    durable = {"users": storage.users, "sessions": storage.sessions, "audit": storage.audit}
    standard = {"cameras": storage.cameras, "events": storage.events, "clips": storage.clips}
    for name, repository in durable.items():
        assert repository._conn is storage.database.durable, name
    for name, repository in standard.items():
        assert repository._conn is storage.database.standard, name
    with pytest.raises(ValueError, match="synchronous=FULL"):
        UserRepository(storage.database.standard)


async def test_a_taken_name_is_a_conflict(storage: Storage) -> None:
    await storage.users.add("alice", "$argon2id$h", "owner", T0)
    with pytest.raises(Conflict, match="UNIQUE"):
        await storage.users.add("ALICE", "$argon2id$h", "resident", T0)
    assert [u.username for u in await storage.users.list()] == ["alice"]


async def test_a_failed_transaction_is_a_conflict_and_leaves_nothing(storage: Storage) -> None:
    user_id = await storage.users.add("alice", "$argon2id$h", "resident", T0)
    await storage.cameras.upsert(CameraRecord("door", "Door", "onvif", "192.0.2.1", 80, T0))
    with pytest.raises(Conflict):  # the second camera does not exist
        await storage.users.set_grants(user_id, {"door", "ghost"})
    assert await storage.users.grants(user_id) == set()


async def test_a_closed_database_is_a_storage_error(tmp_path: Path) -> None:
    opened = await Storage.open(tmp_path)
    assert await opened.schema_version() > 0
    await opened.close()
    with pytest.raises(StorageError):
        await opened.schema_version()


async def test_audit_chain_through_the_repository(storage: Storage) -> None:
    audit = AuditLog(storage.audit)
    await asyncio.gather(*(audit.append("alice", "login", ip=f"10.0.0.{i}") for i in range(20)))
    entries = await audit.query(action="log", limit=100)
    assert sorted(e.seq for e in entries) == list(range(1, 21))
    assert (await audit.verify()).checked == 20
    await storage.database.durable.execute("DROP TRIGGER IF EXISTS audit_no_update")
    await storage.database.durable.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 7")
    result = await audit.verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 7, 6)
