"""Clip retention and the disk: old clips go, space is kept free, held clips are never touched.

A pass runs every `every_s` (60 s) and at once when a clip is about to open on a disk short of
space. It lapses holds past their end date, deletes each camera's unheld clips older than its
retention (per mode), then, while free space is under the floor, the oldest unheld clips of
any camera. When only held clips are left, recording pauses with an alarm (logged once) and
resumes by itself when space returns. Deletions go in batches (mark, remove the files on a
thread, drop the rows), each batch one audit row with the clip ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from doorstep.gateway.audit.log import AuditLog
from doorstep.gateway.recording.files import remove_clip_files
from doorstep.gateway.storage import ClipRecord, ClipRepository, HoldRepository, StorageError

_log = logging.getLogger(__name__)

PASS_EVERY_S = 60.0
FREE_SPACE_EVERY_S = 1.0
"""Free space is measured this often (one statvfs on a thread): between two measurements 4
cameras write about 2 MB, well inside any floor (64 MiB at least)."""
BATCH_CLIPS = 100
DISK_FULL = "disk full: only held clips are left"
MAKING_SPACE = "making space on the disk"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def free_bytes(root: Path) -> int:
    """Free space where clips are written (blocking)."""
    root.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(root).free


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass did."""

    expired: int
    for_space: int
    lapsed_holds: int
    paused: bool


class ClipRetention:
    """Runs retention passes in the background; `gate` tells a recorder whether it may open."""

    def __init__(
        self,
        clips: ClipRepository,
        holds: HoldRepository,
        audit: AuditLog,
        root: Path,
        days: Callable[[str, str], int],
        min_free: Callable[[], int],
        *,
        every_s: float = PASS_EVERY_S,
        batch: int = BATCH_CLIPS,
        now: Callable[[], datetime] = _utc_now,
        free: Callable[[Path], int] = free_bytes,
    ) -> None:
        self._clips, self._holds, self._audit = clips, holds, audit
        self.root = root
        self._days = days
        self._min_free = min_free
        self._every_s = every_s
        self._batch = batch
        self._now = now
        self._free = free
        self.free: int | None = None
        """Free bytes as last measured."""
        self.paused = False
        self.error: str | None = None
        """Why the clip directory cannot be used (unreadable, read-only), or None."""
        self.deleted = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Measure the disk now and run passes from now on."""
        self._tasks = [
            asyncio.create_task(self._passes(), name="clip-retention"),
            asyncio.create_task(self._measure_often(), name="clip-free-space"),
        ]

    async def stop(self) -> None:
        """Stop (a pass under way ends after its current batch)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def gate(self) -> str | None:
        """Why no clip may open now, or None. A disk short of space wakes a pass at once."""
        if self.paused:
            return DISK_FULL
        if self.free is not None and self.free < self._min_free():
            self._wake.set()
            return MAKING_SPACE
        return None

    def wake(self) -> None:
        """Run a pass now (a clip failed for want of space)."""
        self._wake.set()

    async def _measure_often(self) -> None:
        """Measure free space; a pass runs at once when it falls under the floor, and when it
        returns while recording is paused (recording then resumes within a second or two)."""
        while True:
            free = await self._measure()
            if free is not None and (free < self._min_free()) != self.paused:
                self._wake.set()
            await asyncio.sleep(FREE_SPACE_EVERY_S)

    async def _measure(self) -> int | None:
        try:
            self.free = await asyncio.to_thread(self._free, self.root)
            self.error = None
        except OSError as exc:
            self.error = f"the clip directory cannot be used: {exc.strerror or exc}"
            self.free = None
        return self.free

    async def _passes(self) -> None:
        while True:
            try:
                await self.run_once()
            except StorageError as exc:
                _log.warning("clip retention: the database refused (%s); retrying later", exc)
            except Exception:  # a pass must never end retention: the next one tries again
                _log.exception("clip retention: the pass failed; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._every_s)
            self._wake.clear()

    async def run_once(self) -> PassResult:
        """One pass: lapse holds, expire old clips, then make space if it is short."""
        now = self._now()
        lapsed = await self._holds.lapse(now)
        if lapsed:
            await self._audit.append("retention", "clip.hold_lapsed", detail={"clips": lapsed})
        expired = 0
        for camera_id in await self._clips.cameras():
            for mode in ("events", "continuous"):
                cutoff = now - timedelta(days=self._days(camera_id, mode))
                while batch := await self._clips.expired(camera_id, mode, cutoff, self._batch):
                    expired += await self._delete(batch, "retention")
                    if len(batch) < self._batch:
                        break
        for_space = await self._make_space()
        return PassResult(expired, for_space, len(lapsed), self.paused)

    async def _make_space(self) -> int:
        deleted = 0
        free = await self._measure()
        while free is not None and free < self._min_free():
            batch = await self._clips.oldest_unheld(self._batch)
            if not batch:
                if not self.paused:
                    _log.error("recording paused: %s (free %d MiB)", DISK_FULL, free >> 20)
                self.paused = True
                return deleted
            deleted += await self._delete(batch, "space")
            free = await self._measure()
        if self.paused:
            _log.warning("recording resumed: the disk has space again")
        self.paused = False
        return deleted

    async def delete_now(self, batch: list[ClipRecord], who: str) -> int:
        """Delete clips at someone's request (the owner); held ones are kept. Returns how many
        went."""
        return await self._delete(batch, "owner", who)

    async def _delete(self, batch: list[ClipRecord], why: str, who: str = "retention") -> int:
        """Mark, remove the files, drop the rows; one audit row for the batch."""
        ids = await self._clips.mark_deleting([c.id for c in batch])
        marked = [c for c in batch if c.id in set(ids)]  # a clip held meanwhile is kept
        await asyncio.to_thread(lambda: [remove_clip_files(self.root, c.path) for c in marked])
        removed = await self._clips.delete(ids)
        self.deleted += removed
        if removed:
            await self._audit.append(
                who, "clip.delete", detail={"reason": why, "count": removed, "clips": ids}
            )
        await asyncio.sleep(0)  # others' work between batches
        return removed
