"""The start-up pass over real files and a real SQLite database: unfinished clips finished and
registered, rows and files made to agree, and nothing deleted that the database does not know."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from doorstep.gateway.recording.files import UnsafeClipPath, open_clip, resolve
from doorstep.gateway.recording.reconcile import reconcile
from doorstep.gateway.storage import CameraRecord, ClipRecord, Storage
from doorstep.simulator.media import VideoLoop, encode_video_loop

from .clips import decode_clip, write_clip

FPS = 15
T0 = datetime(2026, 11, 30, 20, 15, 1, 250_000, tzinfo=UTC)


@pytest.fixture(scope="module")
def loop() -> VideoLoop:
    return encode_video_loop(320, 180, FPS, seconds=3)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path)
    await store.cameras.upsert(CameraRecord("door", "Door", "onvif", "192.0.2.1", 80, T0))
    yield store
    await store.close()


async def test_a_crash_leaves_clips_the_next_start_finishes_and_registers(
    tmp_path: Path, storage: Storage, loop: VideoLoop
) -> None:
    root = tmp_path / "clips"
    part = await asyncio.to_thread(write_clip, root, loop, "p" * 22, close=False, cut=500)
    orphan = await asyncio.to_thread(write_clip, root, loop, "o" * 22, close=True)
    known = await asyncio.to_thread(write_clip, root, loop, "k" * 22, close=True)
    relative = known.relative_to(root).as_posix()
    await storage.clips.add(ClipRecord("k" * 22, "door", relative, T0))
    await storage.clips.add(ClipRecord("gone", "door", "door/events/2026-11-30/x.mp4", T0))
    doomed = await asyncio.to_thread(write_clip, root, loop, "d" * 22, close=True)
    await storage.clips.add(ClipRecord("d" * 22, "door", doomed.relative_to(root).as_posix(), T0))
    await storage.clips.set_state(["d" * 22], "deleting")
    stranger = root / "door" / "notes.txt"
    stranger.write_text("the owner's own file")
    (root / "door" / "elsewhere.mp4").symlink_to(known)

    found = await reconcile(root, storage.clips, storage.events)

    assert [Path(p).name for p in found.finished_parts] == [part.name.removesuffix(".part")]
    assert [Path(p).name for p in found.registered] == [orphan.name]
    assert found.missing == ["gone"]
    assert found.removed == [doomed.relative_to(root).as_posix()]
    assert stranger.exists()
    assert (root / "door" / "elsewhere.mp4").is_symlink()
    assert not part.exists()
    assert not doomed.exists()
    recovered = await storage.clips.get("p" * 22)
    assert recovered is not None
    assert recovered.recovered
    assert recovered.started_at == T0
    assert recovered.frames == 2 * FPS  # the cut third fragment is lost, nothing more
    finished = root / recovered.path
    decoded = await asyncio.to_thread(decode_clip, finished)
    assert decoded.errors == 0
    assert decoded.frames == 2 * FPS
    assert abs(decoded.duration_s - 2.0) < 0.1
    registered = await storage.clips.get("o" * 22)
    assert registered is not None
    assert not registered.recovered
    assert registered.frames == 3 * FPS
    assert (registered.width, registered.height) == (320, 180)
    assert await storage.clips.get("d" * 22) is None
    missing = await storage.clips.get("gone")
    assert missing is not None
    assert missing.state == "missing"

    again = await reconcile(root, storage.clips, storage.events)  # a second start: all agree
    assert (again.finished_parts, again.registered, again.removed) == ([], [], [])


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "/etc/passwd", "door/../../x", "door/\x00x", "door\\..\\x", "", "."]
)
def test_clip_paths_never_leave_the_root(tmp_path: Path, path: str) -> None:
    with pytest.raises(UnsafeClipPath):
        resolve(tmp_path, path)


def test_a_planted_symlink_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not a clip")
    root = tmp_path / "clips"
    (root / "door").mkdir(parents=True)
    (root / "door" / "x.mp4").symlink_to(secret)
    (root / "link").symlink_to(root / "door")
    for path in ("door/x.mp4", "link/x.mp4"):
        with pytest.raises((UnsafeClipPath, OSError)):
            os.close(open_clip(root, path))
