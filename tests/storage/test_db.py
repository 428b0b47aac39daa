"""The database file: migrations, pragmas, refusing corrupt or newer files without touching them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from doorstep.gateway.storage import Database, DatabaseCorrupt, DatabaseTooNew, StorageError
from doorstep.gateway.storage import db as db_module


async def test_migrates_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "doorstep.db"
    database = await Database.open(path)
    try:
        latest = (await asyncio.to_thread(db_module.load_migrations))[-1].version
        assert await database.schema_version() == latest
        tables = {
            row[0]
            for row in await database.standard.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        assert {"cameras", "events", "clips", "users"} <= tables
    finally:
        await database.close()


async def test_pragmas_and_two_durabilities(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "doorstep.db")
    try:
        for conn, synchronous in ((database.standard, 1), (database.durable, 2)):  # NORMAL, FULL
            assert (await conn.fetchone("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
            assert (await conn.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
            assert (await conn.fetchone("PRAGMA synchronous"))[0] == synchronous  # type: ignore[index]
            timeout = await conn.fetchone("PRAGMA busy_timeout")
            assert timeout is not None
            assert timeout[0] == db_module.BUSY_TIMEOUT_MS
    finally:
        await database.close()


async def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "doorstep.db"
    first = await Database.open(path)
    await first.standard.execute(
        "INSERT INTO cameras (id, name, driver, host, created_at)"
        " VALUES ('c', 'C', 'onvif', 'h', 't')"
    )
    version = await first.schema_version()
    await first.close()
    second = await Database.open(path)
    try:
        assert await second.schema_version() == version
        rows = await second.standard.fetchall("SELECT id FROM cameras")
        assert [r[0] for r in rows] == ["c"]
    finally:
        await second.close()


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


async def test_garbage_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "doorstep.db"
    path.write_bytes(b"this is not a database\n" * 200)
    before = _bytes(path)
    with pytest.raises(DatabaseCorrupt, match="not an SQLite database"):
        await Database.open(path)
    assert _bytes(path) == before
    assert not (tmp_path / "doorstep.db-wal").exists()


async def test_damaged_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "doorstep.db"
    database = await Database.open(path)
    await database.standard.executemany(
        "INSERT INTO cameras (id, name, driver, host, created_at) VALUES (?, ?, 'onvif', 'h', 't')",
        [(f"cam{i}", "x" * 500) for i in range(200)],
    )
    await database.close()
    raw = bytearray(_bytes(path))
    page_size = int.from_bytes(raw[16:18], "big")
    # Scribble over the second page (a b-tree page): the header stays valid, the content not.
    raw[page_size : page_size * 2] = b"\xa5" * page_size
    path.write_bytes(bytes(raw))
    with pytest.raises(DatabaseCorrupt, match="refusing to open it"):
        await Database.open(path)
    assert _bytes(path) == bytes(raw)


async def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "doorstep.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = _bytes(path)
    with pytest.raises(DatabaseTooNew, match="schema 999"):
        await Database.open(path)
    assert _bytes(path) == before


async def test_failed_migration_rolls_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doorstep.db"
    await (await Database.open(path)).close()
    good = await asyncio.to_thread(db_module.load_migrations)
    broken = db_module.Migration(
        len(good) + 1,
        "9999_broken.sql",
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM nowhere;",
    )
    monkeypatch.setattr(db_module, "load_migrations", lambda: [*good, broken])
    with pytest.raises(StorageError, match=r"9999_broken\.sql failed"):
        await Database.open(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(good)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables
    finally:
        conn.close()


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in db_module.load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_rebuilding_migration_keeps_rows_and_links(tmp_path: Path) -> None:
    """0002 rebuilds `events`; clip→event links and event rows must survive it."""
    path = tmp_path / "doorstep.db"
    conn = sqlite3.connect(path)
    migrations = await asyncio.to_thread(db_module.load_migrations)
    conn.executescript(migrations[0].sql + "\nPRAGMA user_version = 1;")
    conn.executescript(
        "INSERT INTO cameras (id, name, driver, host, created_at)"
        " VALUES ('c', 'C', 'onvif', 'h', 't');"
        "INSERT INTO events (id, camera_id, kind, active, occurred_at, received_at)"
        " VALUES (7, 'c', 'motion', 1, 't', 't');"
        "INSERT INTO clips (id, camera_id, event_id, path, started_at)"
        " VALUES ('k', 'c', 7, 'c/k.mp4', 't');"
    )
    conn.close()
    database = await Database.open(path)
    try:
        assert await database.schema_version() == len(migrations)
        clip = await database.standard.fetchone("SELECT event_id FROM clips WHERE id = 'k'")
        assert clip is not None
        assert clip[0] == 7
        await database.standard.execute(
            "INSERT INTO events (camera_id, kind, active, occurred_at, received_at)"
            " VALUES ('c', 'line_crossing', NULL, 't', 't')"
        )
        fk = await database.standard.fetchone("PRAGMA foreign_keys")
        assert fk is not None
        assert fk[0] == 1
    finally:
        await database.close()
