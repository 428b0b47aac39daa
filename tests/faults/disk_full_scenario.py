"""The disk-full scenario, run by test_disk_full.py in a mount namespace of its own: the clip
directory on a small tmpfs, 4 cameras recording, the disk filled until only held clips are
left, then space freed. Prints what it saw as one JSON object; the test asserts on it.

Usage (under `unshare --mount`, which gives the tmpfs a namespace that dies with this process):
    python -m tests.faults.disk_full_scenario SETUP_JSON
SETUP_JSON: {"data_dir", "tmpfs_mib", "floor_mib", "cameras": [camera config entries]}
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipQuery
from doorstep.gateway.web.keys import CLIP_RETENTION, RECORDING, STORAGE

MIB = 1024 * 1024
# What a write that met ENOSPC leaves in the log (the clip writer's own words, or the OS's).
SPACE_FAILURE = re.compile(r"No space left|ENOSPC|Errno 28|^recording \S+: disk full$")


class Seen(logging.Handler):
    """Every WARNING or worse the gateway logs, and whether any carried a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.tracebacks = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.tracebacks += record.exc_info is not None


async def until(predicate: Any, within_s: float, what: str) -> float:
    """Wait for `predicate()`; seconds it took. RuntimeError (with `what`) on timeout."""
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > within_s:
            raise RuntimeError(f"timed out after {within_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)
    return time.monotonic() - start


def fill(path: Path, leave: int, root: Path) -> None:
    """Grow a ballast file until `leave` bytes are free on the clip disk (blocking)."""
    chunk = b"\0" * MIB
    with path.open("ab") as ballast:
        while (free := shutil.disk_usage(root).free) > leave:
            try:
                ballast.write(chunk[: min(MIB, free - leave)])
                ballast.flush()
            except OSError:  # the test's own write; the gateway's writes are what is measured
                break


def mount_tmpfs(root: Path, size_mib: int) -> None:
    """The clip directory on a tmpfs of `size_mib` (this namespace only)."""
    root.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "doorstep-test", str(root)],
        check=True,
    )


async def health(runner: web.AppRunner) -> dict[str, Any]:
    """`/api/health`'s recording section."""
    async with _client(runner) as http, http.get("/api/health") as response:
        report: dict[str, Any] = (await response.json())["recording"]
        return report


async def fill_until_paused(
    app: web.Application, cameras: list[str], root: Path, floor: int
) -> dict[str, Any]:
    """Hold two clips, then fill the disk, again and again as retention makes space, until
    only held clips (and the clips open now, which stop at their next keyframe) are left."""
    recording, retention, storage = app[RECORDING], app[CLIP_RETENTION], app[STORAGE]

    async def clips() -> list[Any]:
        return await storage.clips.find(ClipQuery(limit=1000))

    async def every_camera_has_a_clip() -> bool:
        return {c.camera_id for c in await clips()} >= set(cameras)

    await until(every_camera_has_a_clip, 60, "a registered clip of every camera")
    held = [c.id for c in sorted(await clips(), key=lambda c: c.started_at)[:2]]
    for clip_id in held:
        await storage.holds.hold(clip_id, "the test holds it", None, "test", datetime.now(UTC))
    ballast = root / "ballast.bin"
    started = time.monotonic()
    while not retention.paused:
        if time.monotonic() - started > 90:
            raise RuntimeError("recording never paused on a full disk")
        await asyncio.to_thread(fill, ballast, floor // 2, root)
        await asyncio.sleep(0.5)

    async def all_paused() -> bool:
        return all(recording.status(c).state == "paused" for c in cameras)

    paused_s = await until(all_paused, 15, "every recorder paused")
    remaining = await clips()
    return {
        "pause_s": paused_s,
        "held": held,
        "remaining_ids": [c.id for c in remaining],
        "held_files": [(root / c.path).is_file() for c in remaining if c.id in held],
        "free_paused_mib": shutil.disk_usage(root).free / MIB,
        "statuses_paused": {c: recording.status(c).state for c in cameras},
    }


async def free_space(app: web.Application, cameras: list[str], root: Path) -> dict[str, Any]:
    """Delete the ballast; how long until every camera records again."""
    recording = app[RECORDING]
    await asyncio.to_thread((root / "ballast.bin").unlink)

    async def all_recording() -> bool:
        return all(recording.status(c).state == "recording" for c in cameras)

    return {
        "resume_s": await until(all_recording, 30, "every recorder recording again"),
        "failures": recording.failures,
        "errors": {c: recording.status(c).reason for c in cameras},
    }


async def scenario(setup: dict[str, Any]) -> dict[str, Any]:
    data = Path(setup["data_dir"])
    root = data / CLIPS_DIR
    config = Config.model_validate({
        "storage": {"data_dir": data},
        "retention": {"min_free_mib": setup["floor_mib"]},
        "recording": {"mode": "continuous", "segment_s": 10, "audio": False},
        "cameras": setup["cameras"],
    })  # fmt: skip
    seen = Seen()
    logging.getLogger().addHandler(seen)
    logging.getLogger().setLevel(logging.INFO)
    app = await asyncio.to_thread(build_app, config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        cameras = [c["id"] for c in setup["cameras"]]
        out = await fill_until_paused(app, cameras, root, setup["floor_mib"] * MIB)
        out["health_paused"] = await health(runner)
        out |= await free_space(app, cameras, root)
        out["health_resumed"] = await health(runner)
    finally:
        await runner.cleanup()
    out["space_messages"] = [m for m in seen.messages if SPACE_FAILURE.search(m)]
    out["tracebacks"] = seen.tracebacks
    return out


def _client(runner: web.AppRunner) -> aiohttp.ClientSession:
    port = runner.addresses[0][1]
    return aiohttp.ClientSession(f"http://127.0.0.1:{port}")


def main() -> None:
    setup = json.loads(sys.argv[1])
    mount_tmpfs(Path(setup["data_dir"]) / CLIPS_DIR, setup["tmpfs_mib"])
    try:
        result = asyncio.run(scenario(setup))
    except RuntimeError as exc:
        result = {"failed": str(exc)}
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
