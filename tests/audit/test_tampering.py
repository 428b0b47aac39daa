"""The audit log against someone who holds the database file: an edited row, a re-computed
chain, a cut tail and a swapped signing key are each found by `doorstep audit verify`, which
names the first bad row. Real SQLite files, the real CLI."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.checkpoints import Checkpointer
from doorstep.gateway.audit.log import GENESIS, row_hash
from doorstep.gateway.audit.notes import origin_for, parse_checkpoint
from doorstep.gateway.keys.signing import KEY_FILE, SigningKey
from doorstep.gateway.storage import Storage


@dataclass
class Box:
    """A data directory with a log of 12 rows and checkpoints at 5, 10 and 12."""

    data_dir: Path
    key: SigningKey

    @property
    def db(self) -> Path:
        return self.data_dir / "doorstep.db"

    def note(self, size: int) -> str:
        with sqlite3.connect(self.db) as conn:
            (note,) = conn.execute(
                "SELECT note FROM audit_checkpoints WHERE size = ?", (size,)
            ).fetchone()
        return str(note)


async def write_log(data_dir: Path, rows: int, every: int, key: SigningKey) -> None:
    storage = await Storage.open(data_dir)
    try:
        log = AuditLog(storage.audit)
        checkpoints = Checkpointer(storage.audit, storage.audit_checkpoints, key, every_rows=every)
        for i in range(rows):
            await log.append(f"user{i % 3}", "clip.view", f"clip-{i}", detail={"n": i})
            if (i + 1) % every == 0:
                await checkpoints.checkpoint_now()
        await checkpoints.checkpoint_now()
    finally:
        await storage.close()


@pytest.fixture
async def box(tmp_path: Path) -> Box:
    data_dir = tmp_path / "data"
    key = await asyncio.to_thread(SigningKey.load_or_create, data_dir)
    await write_log(data_dir, 12, 5, key)
    return Box(data_dir, key)


def verify(box: Box, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "doorstep.gateway", "audit", "verify",
               "--data-dir", str(box.data_dir), *extra]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def tamper(box: Box, statements: list[tuple[str, tuple[object, ...]]]) -> None:
    """What an attacker with the file and sqlite3 does: drop the triggers, then write."""
    with sqlite3.connect(box.db) as conn:
        for trigger in ("audit_no_update", "audit_no_delete", "audit_checkpoints_no_update",
                        "audit_checkpoints_no_delete"):  # fmt: skip
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for sql, params in statements:
            conn.execute(sql, params)


def rechain(box: Box, edit_seq: int) -> None:
    """Change row `edit_seq`'s actor and re-compute every hash from it on: the chain is
    consistent again; only the signed checkpoints know."""
    with sqlite3.connect(box.db) as conn:
        rows = conn.execute(
            "SELECT seq, at, actor, action, target, outcome, ip, detail FROM audit ORDER BY seq"
        ).fetchall()
    previous, updates = GENESIS, []
    for seq, at, stored_actor, action, target, outcome, ip, detail in rows:
        actor = "someone-else" if seq == edit_seq else stored_actor
        digest = row_hash(previous, at, actor, action, target, outcome, ip, detail)
        if seq >= edit_seq:
            updates.append(("UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                            (actor, previous, digest, seq)))  # fmt: skip
        previous = digest
    # Hashes are UNIQUE: clear them first so the new ones can go in.
    tamper(box, [("UPDATE audit SET hash = 'x' || seq WHERE seq >= ?", (edit_seq,)), *updates])


async def test_an_intact_log_verifies_with_its_checkpoints(box: Box) -> None:
    result = await asyncio.to_thread(verify, box)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit log ok, chain intact: 12 row(s), 3 stored checkpoint(s)" in result.stdout
    saved = box.data_dir.parent / "saved.txt"
    saved.write_text(box.note(10))
    pinned = await asyncio.to_thread(
        verify, box, "--checkpoint", str(saved), "--key", box.key.public.fingerprint
    )
    assert pinned.returncode == 0, pinned.stdout
    assert "1 saved checkpoint(s)" in pinned.stdout
    note = parse_checkpoint(box.note(12))
    assert (note.size, note.origin) == (12, origin_for(box.key.public))
    assert note.signed_by(box.key.public)
    assert not note.signed_by(SigningKey.generate().public)


async def test_an_edited_row_is_named(box: Box) -> None:
    tamper(box, [("UPDATE audit SET target = 'clip-x' WHERE seq = 7", ())])
    result = await asyncio.to_thread(verify, box)
    assert result.returncode == 1
    assert "first bad row: 7: row 7: its content was changed" in result.stdout


async def test_a_recomputed_chain_is_caught_by_the_checkpoints_and_the_row_named(box: Box) -> None:
    rechain(box, 4)
    result = await asyncio.to_thread(verify, box)
    assert result.returncode == 1, result.stdout
    assert "first bad row: 4: row 4 is not the row the stored checkpoint of 5 rows signed" in (
        result.stdout
    )
    # The checkpoints' own batches altered too: the row is no longer known, the range is.
    tamper(box, [("UPDATE audit_checkpoints SET leaves = zeroblob(32 * 5) WHERE size = 5", ())])
    result = await asyncio.to_thread(verify, box)
    assert "first bad row: 1: rows 1–5 do not match the stored checkpoint of 5 rows" in (
        result.stdout
    )


async def test_a_cut_tail_is_caught_by_a_saved_checkpoint(box: Box) -> None:
    saved = box.data_dir.parent / "saved.txt"
    saved.write_text(box.note(12))
    # The attacker removes the last rows and every checkpoint that covered them.
    tamper(box, [("DELETE FROM audit WHERE seq > 8", ()),
                 ("DELETE FROM audit_checkpoints WHERE size > 8", ())])  # fmt: skip
    alone = await asyncio.to_thread(verify, box)
    assert alone.returncode == 0  # on its own, a cut log looks whole: hence saved checkpoints
    result = await asyncio.to_thread(verify, box, "--checkpoint", str(saved))
    assert result.returncode == 1
    assert (
        "first bad row: 9: the log ends at row 8, but the saved checkpoint of 12 rows covers "
        "12: rows 9–12 were removed"
    ) in result.stdout


async def test_a_cut_tail_is_caught_by_a_stored_checkpoint(box: Box) -> None:
    tamper(box, [("DELETE FROM audit WHERE seq > 11", ())])
    result = await asyncio.to_thread(verify, box)
    assert result.returncode == 1
    assert "first bad row: 12: the log ends at row 11" in result.stdout


async def test_a_swapped_key_is_caught_and_the_first_unvouched_row_named(box: Box) -> None:
    old_vkey = box.key.public.vkey(origin_for(box.key.public))
    old_fingerprint = box.key.public.fingerprint
    saved = box.data_dir.parent / "saved.txt"
    saved.write_text(box.note(10))
    # The attacker puts a key of their own in place and the gateway signs on with it.
    (box.data_dir / KEY_FILE).unlink()
    new_key = SigningKey.generate()
    new_key.write(box.data_dir / KEY_FILE)
    await write_log(box.data_dir, 6, 5, new_key)  # rows 13-18, checkpoints at 17 and 18
    pinned = await asyncio.to_thread(verify, box, "--key", old_vkey)
    assert pinned.returncode == 1
    why = "first bad row: 13: the stored checkpoint of 17 rows is not signed by the pinned key"
    assert why in pinned.stdout
    by_fingerprint = await asyncio.to_thread(verify, box, "--key", old_fingerprint)
    assert by_fingerprint.returncode == 1
    assert f"not the pinned {old_fingerprint}: the key was swapped" in by_fingerprint.stdout
    with_saved = await asyncio.to_thread(verify, box, "--checkpoint", str(saved))
    assert with_saved.returncode == 1
    assert "the saved checkpoint of 10 rows is not signed by the pinned key" in with_saved.stdout


async def test_the_checkpointer_refuses_to_sign_a_broken_chain(tmp_path: Path) -> None:
    key = SigningKey.generate()
    storage = await Storage.open(tmp_path)
    try:
        log = AuditLog(storage.audit)
        checkpoints = Checkpointer(storage.audit, storage.audit_checkpoints, key, every_rows=3)
        for i in range(4):
            await log.append("owner", "clip.view", f"clip-{i}")
        first = await checkpoints.checkpoint_now()
        assert first is not None
        assert first.size == 4
        assert await checkpoints.checkpoint_now() == first  # nothing new: the same one
        await log.append("owner", "clip.view", "clip-4")
        with sqlite3.connect(tmp_path / "doorstep.db") as conn:
            conn.execute("DROP TRIGGER audit_no_update")
            conn.execute("UPDATE audit SET actor = 'x' WHERE seq = 5")
        assert await checkpoints.checkpoint_now() is None
        latest = await storage.audit_checkpoints.latest()
        assert latest is not None
        assert latest.size == 4
    finally:
        await storage.close()


async def test_checkpoints_come_every_n_rows_in_the_background(tmp_path: Path) -> None:
    key = SigningKey.generate()
    storage = await Storage.open(tmp_path)
    try:
        log = AuditLog(storage.audit)
        checkpoints = Checkpointer(storage.audit, storage.audit_checkpoints, key, every_rows=4)
        log.watch(checkpoints.appended)
        checkpoints.start()
        for i in range(9):
            await log.append("owner", "clip.view", f"clip-{i}")
        async with asyncio.timeout(10):
            while (latest := await storage.audit_checkpoints.latest()) is None or latest.size < 8:
                await asyncio.sleep(0.02)
        await checkpoints.stop()
        sizes = [c.size for c in await storage.audit_checkpoints.page()]
        assert sizes[0] >= 8
        assert all(s >= 4 for s in sizes)
    finally:
        await storage.close()
