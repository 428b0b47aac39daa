"""Clip retention over real files and a real SQLite database: old clips go, the oldest unheld
go first when space is short, held clips always stay, and recording pauses and resumes.

The free space is computed from the files under the clip root against a capacity the test sets
(a quota), so the test is exact on any disk; the real full disk is tests/faults' tmpfs test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorstep.gateway.audit.log import AuditLog
from doorstep.gateway.recording.retention import DISK_FULL, MAKING_SPACE, ClipRetention
from doorstep.gateway.storage import CameraRecord, ClipRecord, Storage

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path)
    await store.cameras.upsert(CameraRecord("door", "Door", "onvif", "192.0.2.1", 80, NOW))
    yield store
    await store.close()


class Quota:
    """Free space = capacity minus the bytes of the files under the root."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity

    def __call__(self, root: Path) -> int:
        used = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        return self.capacity - used


async def add_clips(storage: Storage, root: Path, ages_days: list[float]) -> list[str]:
    """One 1 MiB clip file (and a poster) per age, oldest first."""
    ids = []
    for index, age in enumerate(ages_days):
        clip_id = f"clip{index:02d}" + "x" * 16
        relative = f"door/events/day/{index:02d}-{clip_id}.mp4"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * MIB)
        path.with_suffix(".jpg").write_bytes(b"\xff\xd8")
        started = NOW - timedelta(days=age)
        await storage.clips.add(ClipRecord(clip_id, "door", relative, started, started))
        ids.append(clip_id)
    return ids


def retention(storage: Storage, root: Path, quota: Quota, floor_mib: int) -> ClipRetention:
    return ClipRetention(
        storage.clips, storage.holds, AuditLog(storage.audit), root,
        days=lambda camera, mode: 7, min_free=lambda: floor_mib * MIB, now=lambda: NOW,
        free=quota, batch=2,
    )  # fmt: skip


async def remaining(storage: Storage) -> set[str]:
    rows = await storage.database.standard.fetchall("SELECT id FROM clips")
    return {r["id"] for r in rows}


async def test_old_clips_go_held_ones_stay_and_each_batch_is_audited(
    storage: Storage, tmp_path: Path
) -> None:
    root = tmp_path / "clips"
    ids = await add_clips(storage, root, [30, 20, 10, 3, 1])
    await storage.holds.hold(ids[0], "evidence for case 12", None, "owner", NOW)
    keeper = retention(storage, root, Quota(1024 * MIB), floor_mib=10)
    result = await keeper.run_once()
    assert result.expired == 2  # the 20- and 10-day-old clips; the 30-day one is held
    assert await remaining(storage) == {ids[0], ids[3], ids[4]}
    assert not (root / "door/events/day" / f"01-{ids[1]}.mp4").exists()
    assert not (root / "door/events/day" / f"01-{ids[1]}.jpg").exists()
    assert (root / "door/events/day" / f"00-{ids[0]}.mp4").exists()
    rows = await storage.audit.query(action_prefix="clip.delete")
    assert len(rows) == 1  # one batch (of up to 2), one row, with its ids
    assert json.loads(rows[0].detail)["clips"] == [ids[1], ids[2]]


async def test_short_space_deletes_the_oldest_unheld_then_pauses_and_resumes(
    storage: Storage, tmp_path: Path
) -> None:
    root = tmp_path / "clips"
    ids = await add_clips(storage, root, [3, 2.5, 2, 1.5, 1])
    await storage.holds.hold(ids[1], "kept", None, "owner", NOW)
    await storage.holds.hold(ids[4], "kept", None, "owner", NOW)
    quota = Quota(8 * MIB + 1024)  # 5 MiB used (and 10-byte posters): 3 MiB free, floor 5 MiB
    keeper = retention(storage, root, quota, floor_mib=5)
    result = await keeper.run_once()
    assert result.for_space == 2
    assert not result.paused
    assert await remaining(storage) == {ids[1], ids[3], ids[4]}  # ids[0] and ids[2] went
    assert keeper.gate() is None
    quota.capacity = 6 * MIB + 1024  # the disk fills with something else
    result = await keeper.run_once()
    assert result.paused  # ids[3] went too; only held clips remain and it is still short
    assert await remaining(storage) == {ids[1], ids[4]}
    assert keeper.gate() == DISK_FULL
    quota.capacity = 100 * MIB  # space is back
    assert not (await keeper.run_once()).paused
    assert keeper.gate() is None
    keeper.free = 1 * MIB  # a measurement under the floor: a clip about to open waits
    assert keeper.gate() == MAKING_SPACE


async def test_a_clip_held_while_its_deletion_is_under_way_is_kept(
    storage: Storage, tmp_path: Path
) -> None:
    root = tmp_path / "clips"
    [clip_id] = await add_clips(storage, root, [30])
    record = await storage.clips.get(clip_id)
    assert record is not None
    await storage.holds.hold(clip_id, "held just now", None, "owner", NOW)
    keeper = retention(storage, root, Quota(1024 * MIB), floor_mib=1)
    assert await keeper._delete([record], "retention") == 0  # selected before the hold
    assert (root / record.path).exists()
    assert await remaining(storage) == {clip_id}
