"""Repositories against a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from doorstep.gateway.storage import (
    CameraRecord,
    CameraRepository,
    ClipQuery,
    ClipRecord,
    ClipRepository,
    Conflict,
    Database,
    EventRecord,
    EventRepository,
    HoldRepository,
    UserRepository,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "doorstep.db")
    await CameraRepository(db.standard).upsert(
        CameraRecord("door", "Door", "onvif", "192.0.2.1", 80, T0)
    )
    yield db
    await db.close()


async def test_camera_upsert_keeps_identity(database: Database) -> None:
    cameras = CameraRepository(database.standard)
    await cameras.record_identity("door", T0, "aa:bb:cc:dd:ee:ff", "Reolink", "Doorbell", "v3")
    await cameras.upsert(
        CameraRecord("door", "Front door", "onvif", "192.0.2.2", 8000, T0 + timedelta(1))
    )
    camera = await cameras.get("door")
    assert camera is not None
    assert (camera.name, camera.host, camera.port) == ("Front door", "192.0.2.2", 8000)
    assert camera.stable_id == "aa:bb:cc:dd:ee:ff"
    assert camera.created_at == T0
    assert camera.last_seen_at == T0
    assert [c.id for c in await cameras.list()] == ["door"]
    assert await cameras.get("nope") is None


async def test_events_round_trip_newest_first_and_expire(database: Database) -> None:
    events = EventRepository(database.standard)
    for minute in range(5):
        await events.add(
            EventRecord(
                "door", "doorbell", minute % 2 == 0, T0, T0 + timedelta(minutes=minute),
                source="000", topic="tns1:RuleEngine/MyRuleDetector/Visitor",
                attributes={"n": str(minute)},
            )
        )  # fmt: skip
    recent = await events.recent(["door"], limit=3)
    assert [e.attributes["n"] for e in recent] == ["4", "3", "2"]
    assert recent[0].active is True
    assert recent[0].topic.endswith("Visitor")
    earlier = await events.recent(before=T0 + timedelta(minutes=2))
    assert [e.attributes["n"] for e in earlier] == ["1", "0"]
    assert await events.delete_older_than(T0 + timedelta(minutes=3)) == 3
    assert len(await events.recent()) == 2
    assert await events.recent(["other"]) == []


async def test_events_need_a_known_camera(database: Database) -> None:
    with pytest.raises(Conflict):
        await EventRepository(database.standard).add(EventRecord("ghost", "motion", True, T0, T0))


async def test_naive_times_are_refused(database: Database) -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        await EventRepository(database.standard).add(EventRecord("door", "motion", True, naive, T0))


async def test_clips_hold_protects_from_retention_and_delete(database: Database) -> None:
    clips, holds = ClipRepository(database.standard), HoldRepository(database.durable)
    for i in range(3):
        await clips.add(ClipRecord(f"clip{i}", "door", f"door/{i}.mp4", T0 + timedelta(hours=i)))
    await holds.hold("clip0", "police request 7", None, "owner", T0)
    expired = await clips.expired("door", "events", T0 + timedelta(hours=10))
    assert [c.id for c in expired] == ["clip1", "clip2"]
    assert await clips.delete(["clip0"]) == 0
    assert await clips.delete(["clip1"]) == 1
    listed = await clips.find(ClipQuery(cameras=["door"]))
    assert [c.id for c in listed] == ["clip2", "clip0"]
    held = await clips.get("clip0")
    assert held is not None
    assert held.held
    # The schema itself refuses to drop a held clip, whatever the flag says.
    await database.standard.execute("UPDATE clips SET held = 0 WHERE id = 'clip0'")
    with pytest.raises(Conflict, match="held"):
        await clips.delete(["clip0"])


async def _held(clips: ClipRepository, clip_id: str) -> bool | None:
    clip = await clips.get(clip_id)
    return None if clip is None else clip.held


async def test_a_hold_ends_when_released_or_when_its_end_date_passes(database: Database) -> None:
    clips, holds = ClipRepository(database.standard), HoldRepository(database.durable)
    await clips.add(ClipRecord("a", "door", "door/a.mp4", T0))
    await clips.add(ClipRecord("b", "door", "door/b.mp4", T0))
    await holds.hold("a", "owner's reason", None, "owner", T0)
    await holds.hold("b", "until the case closes", T0 + timedelta(days=1), "owner", T0)
    assert await holds.release("a", "owner", T0 + timedelta(hours=1)) == 1
    assert await _held(clips, "a") is False
    assert await holds.lapse(T0 + timedelta(hours=2)) == []
    assert await holds.lapse(T0 + timedelta(days=2)) == ["b"]
    assert await _held(clips, "b") is False
    assert await holds.in_force("b", T0 + timedelta(days=2)) == []
    with pytest.raises(Conflict):
        await holds.hold("ghost", "no such clip", None, "owner", T0)


async def test_camera_with_clips_cannot_be_deleted(database: Database) -> None:
    await ClipRepository(database.standard).add(ClipRecord("c", "door", "door/c.mp4", T0))
    with pytest.raises(Conflict):
        await CameraRepository(database.standard).delete("door")


async def test_users_are_unique_case_insensitively(database: Database) -> None:
    users = UserRepository(database.durable)
    user_id = await users.add("Alice", "$argon2id$v=19$...", "owner", T0)
    with pytest.raises(Conflict):
        await users.add("alice", "$argon2id$v=19$...", "resident", T0)
    with pytest.raises(ValueError, match="unknown role"):
        await users.add("bob", "h", "god", T0)
    found = await users.by_username("ALICE")
    assert found is not None
    assert (found.id, found.role, found.disabled) == (user_id, "owner", False)
    assert await users.set_disabled(user_id, True)
    assert await users.set_password_hash(user_id, "$argon2id$new")
    again = await users.by_username("alice")
    assert again is not None
    assert again.disabled
    assert again.password_hash == "$argon2id$new"


async def test_transaction_rolls_back_on_error(database: Database) -> None:
    cameras = CameraRepository(database.standard)

    async def change_then_fail() -> None:
        async with database.standard.transaction() as tx:
            await tx.execute("UPDATE cameras SET name = 'changed' WHERE id = 'door'")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await change_then_fail()
    camera = await cameras.get("door")
    assert camera is not None
    assert camera.name == "Door"
