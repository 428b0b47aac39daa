"""A clip's file operations, run in order on a thread: the recorder never waits for the disk.

The recorder queues open, fragments and close; one task per clip runs them through
`asyncio.to_thread`. The queue is bounded in bytes: a disk too slow for the camera fails the
clip (it stays playable to its last written fragment) instead of holding video in memory.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from doorstep.gateway.recording.clip_file import ClipFile, ClosedClip
from doorstep.gateway.recording.recovery import finish_part
from doorstep.gateway.recording.timeline import FragmentJob
from doorstep.protocols.fmp4 import VideoTrack

_log = logging.getLogger(__name__)

QUEUE_BYTES = 64 * 1024 * 1024
"""Video a clip may have waiting for the disk (a 4 Mbit/s camera: about two minutes)."""


class DiskFull(OSError):
    """The clip directory has no space left."""


@dataclass(frozen=True, slots=True)
class WriteFailed:
    """Why a clip's file could not be written (the `.part` so far is kept)."""

    reason: str
    disk_full: bool


Finished = Callable[[ClosedClip | None, WriteFailed | None], Awaitable[None]]


def _failure(exc: OSError) -> WriteFailed:
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return WriteFailed("disk full" if full else f"cannot write clips: {name}", full)


class ClipWriter:
    """Runs one `ClipFile`'s operations in order on a worker thread."""

    def __init__(self, file: ClipFile, finished: Finished, queue_bytes: int = QUEUE_BYTES) -> None:
        self.file = file
        self._finished = finished
        self._queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self._queued_bytes = 0
        self._queue_limit = queue_bytes
        self.failed: WriteFailed | None = None
        self._closing = False
        self._task = asyncio.create_task(self._run(), name=f"clip-writer:{file.final.name}")

    @property
    def task(self) -> asyncio.Task[None]:
        """The worker; done once the clip is closed (or failed) and reported."""
        return self._task

    def open(self, video: VideoTrack, audio: tuple[str, int] | None, first_at: float) -> None:
        """Queue creating the file."""
        self._queue.put_nowait(("open", (video, audio, first_at)))

    def write(self, job: FragmentJob) -> bool:
        """Queue a fragment; False when the clip has failed (or its queue is full)."""
        if self.failed is not None or self._closing:
            return False
        size = sum(len(f.unit.data) for f, _ in job.frames)
        if self._queued_bytes + size > self._queue_limit:
            self.failed = WriteFailed("the disk is too slow for this camera", False)
            _log.warning("clip %s: %s; closing it at what was written", self.file.final.name,
                         self.failed.reason)  # fmt: skip
            self.close()
            return False
        self._queued_bytes += size
        self._queue.put_nowait(("write", job))
        return True

    def close(self) -> None:
        """Queue closing the clip; the `finished` callback then gets it."""
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(("close", None))

    async def _run(self) -> None:
        closed: ClosedClip | None = None
        try:
            while True:
                op, arg = await self._queue.get()
                if op == "write" and isinstance(arg, FragmentJob):
                    self._queued_bytes -= sum(len(f.unit.data) for f, _ in arg.frames)
                    if self.failed is None:
                        await asyncio.to_thread(self.file.write, arg)
                elif op == "open" and isinstance(arg, tuple):
                    await asyncio.to_thread(self.file.open, *arg)
                elif op == "close":
                    if self.file.frames:
                        closed = await asyncio.to_thread(self.file.close)
                    else:
                        await asyncio.to_thread(self._discard)
                    break
        except OSError as exc:
            self.failed = _failure(exc)
            await asyncio.to_thread(self.file.abandon)
            closed = await self._salvage()
        except asyncio.CancelledError:
            await asyncio.shield(asyncio.to_thread(self.file.abandon))
            raise
        await self._finished(closed, self.failed)

    async def _salvage(self) -> ClosedClip | None:
        """After a failed write, close the clip at what is on disk, if the disk lets us."""
        if not self.file.frames:
            await asyncio.to_thread(self._discard)
            return None
        try:
            facts = await asyncio.to_thread(finish_part, self.file.part)
        except OSError:
            return None  # the `.part` stays; the next start finishes it
        return None if facts is None else facts.closed

    def _discard(self) -> None:
        """A clip that never got a frame: no file is left behind."""
        self.file.abandon()
        self.file.part.unlink(missing_ok=True)
