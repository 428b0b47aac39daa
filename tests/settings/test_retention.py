"""Event retention on a real SQLite database: old events go in batches, new ones stay, and the
background prune runs after the start and at once when the retention time changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doorstep.gateway.history.retention import EventRetention
from doorstep.gateway.storage import CameraRecord, EventRecord, Storage

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _storage(path: Path) -> Storage:
    storage = await Storage.open(path)
    await storage.cameras.upsert(CameraRecord("front", "Front", "rtsp", "127.0.0.1", 9, NOW))
    return storage


async def _add(storage: Storage, days: float, count: int) -> None:
    at = NOW - timedelta(days=days)
    for i in range(count):
        await storage.events.add(
            EventRecord("front", "motion", i % 2 == 0, at, at, topic=f"{days}")
        )


async def _ages(storage: Storage) -> list[str]:
    return sorted({e.topic for e in await storage.events.recent(["front"], 1000)})


async def test_old_events_are_deleted_in_batches_and_new_ones_kept(tmp_path: Path) -> None:
    storage = await _storage(tmp_path)
    try:
        await _add(storage, 45, 12)
        await _add(storage, 31, 8)
        await _add(storage, 29, 5)
        retention = EventRetention(storage.events, 30, batch_rows=7, now=lambda: NOW)
        assert await retention.prune() == 20
        assert retention.batches == 3  # 7 + 7 + 6: never one statement for the whole history
        assert await _ages(storage) == ["29"]
        assert len(await storage.events.recent(["front"], 1000)) == 5
        assert await retention.prune() == 0
    finally:
        await storage.close()


async def test_the_prune_runs_after_the_start_and_at_once_on_a_new_time(tmp_path: Path) -> None:
    storage = await _storage(tmp_path)
    retention = EventRetention(
        storage.events, 30, first_s=0.01, every_s=3600, batch_rows=100, now=lambda: NOW
    )
    try:
        await _add(storage, 40, 3)
        await _add(storage, 10, 3)
        retention.start()
        await _until(lambda: retention.deleted == 3)
        assert await _ages(storage) == ["10"]
        retention.set_days(7)  # the next hourly prune is an hour away: this one is now
        await _until(lambda: retention.deleted == 6)
        assert await _ages(storage) == []
    finally:
        await retention.stop()
        await storage.close()


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)
