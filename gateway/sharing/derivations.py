"""Making shares' copies one at a time on a worker thread, with their progress for the UI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from doorstep.gateway.recording.files import UnsafeClipPath, resolve
from doorstep.gateway.sharing.derive import DeriveError, DeriveJob, derive
from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.storage import ShareItemRecord, Storage, StorageError

_log = logging.getLogger(__name__)

Finished = Callable[[str], Awaitable[None]]
"""Told the share id when one of its copies is made (or failed)."""


def masks_of(item: ShareItemRecord) -> tuple[Mask, ...]:
    """The stored masks of an item as `Mask`s."""
    return tuple(
        Mask(float(m["x"]), float(m["y"]), float(m["w"]), float(m["h"]), m.get("style", "black"))
        for m in item.masks
    )


def copy_names(share_id: str, position: int) -> tuple[str, str]:
    """The copy's and its poster's paths under the shares directory (nothing of the master's
    name: no camera, no time)."""
    return f"{share_id}/{position}.mp4", f"{share_id}/{position}.jpg"


class Derivations:
    """A queue of copies to make; one is made at a time (each can take a core for a while)."""

    def __init__(
        self, storage: Storage, clip_root: Path, share_root: Path, finished: Finished
    ) -> None:
        self._storage = storage
        self._clip_root = clip_root
        self.share_root = share_root
        self._finished = finished
        self._queue: asyncio.Queue[ShareItemRecord] = asyncio.Queue()
        self.progress: dict[tuple[str, int], float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start making what is queued."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="share-derivations")

    async def stop(self) -> None:
        """Stop; a copy being made finishes on its thread and is made again at the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def add(self, item: ShareItemRecord) -> None:
        """Queue one copy."""
        self.progress[(item.share_id, item.position)] = 0.0
        self._queue.put_nowait(item)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._make(item)
            except StorageError as exc:
                _log.error("a share's copy could not be recorded: %s", type(exc).__name__)
            except Exception as exc:  # one bad clip must not stop the copies after it
                _log.error("a share's copy failed: %s", type(exc).__name__)
                with contextlib.suppress(StorageError):
                    await self._storage.shares.set_item(
                        replace(item, state="failed", error="the copy could not be made")
                    )
            finally:
                self.progress.pop((item.share_id, item.position), None)
            await self._finished(item.share_id)

    async def _make(self, item: ShareItemRecord) -> None:
        key = (item.share_id, item.position)
        clip = await self._storage.clips.get(item.clip_id)
        if clip is None or clip.state != "ok":
            await self._storage.shares.set_item(
                replace(item, state="failed", error="the clip is no longer there")
            )
            return
        video, poster = copy_names(item.share_id, item.position)
        await self._storage.shares.set_item(replace(item, state="working"))
        share = await self._storage.shares.get(item.share_id)
        if share is None:
            return

        def report(done: float) -> None:
            self.progress[key] = done  # from the worker thread: one assignment, no await

        try:
            master = await asyncio.to_thread(resolve, self._clip_root, clip.path)
            await asyncio.to_thread(
                (self.share_root / item.share_id).mkdir, mode=0o750, parents=True, exist_ok=True
            )
            job = DeriveJob(
                master, self.share_root / video, self.share_root / poster, item.start_ms,
                item.end_ms, item.exact, share.audio, masks_of(item),
            )  # fmt: skip
            made = await asyncio.to_thread(derive, job, report)
        except (DeriveError, UnsafeClipPath, OSError) as exc:
            reason = str(exc) if isinstance(exc, DeriveError) else "the clip's file cannot be read"
            _log.warning("share %s: copy %d failed: %s", item.share_id, item.position, reason)
            await self._storage.shares.set_item(replace(item, state="failed", error=reason))
            return
        await self._storage.shares.set_item(
            replace(
                item, state="ready", error=None, file=video, size_bytes=made.size_bytes,
                sha256=made.sha256, duration_ms=made.duration_ms, width=made.width,
                height=made.height, has_audio=made.has_audio, derivation=made.derivation,
            )
        )  # fmt: skip

    def remove_files(self, share_id: str) -> None:
        """Delete a share's copies (blocking)."""
        shutil.rmtree(self.share_root / share_id, ignore_errors=True)
