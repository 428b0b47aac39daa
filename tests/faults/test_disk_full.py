"""Disk full, for real: the clip directory on a small tmpfs while 4 cameras record; the disk is
filled until only held clips are left. No ENOSPC reaches a clip or the log, held clips survive,
the alarm shows in the recorders and `/api/health`, and recording resumes once space is freed.

The tmpfs is mounted in a mount namespace of its own (`unshare --mount`), so it can never be
left behind on the machine: as root, or as a user through a user namespace (`--map-root-user`)
where the kernel allows one. Where neither works the test fails and says why: it is never
skipped (CI runs as root).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from doorstep.simulator import Simulator

from ..integration.conftest import camera_entry
from ..simulator.conftest import StartSimulator

TMPFS_MIB = 160
FLOOR_MIB = 64  # the lowest floor the config takes
REPO = Path(__file__).resolve().parents[2]


def namespace_command() -> list[str]:
    """`unshare` for a private mount namespace this user may mount a tmpfs in."""
    base = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() == 0:
        return base
    return [*base[:1], "--map-root-user", *base[1:]]


def can_mount() -> str | None:
    """Why a tmpfs cannot be mounted here, or None."""
    probe = subprocess.run(
        [*namespace_command(), "mount", "-t", "tmpfs", "-o", "size=1m", "probe", "/mnt"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if probe.returncode == 0:
        return None
    return (
        "this test mounts a small tmpfs for the clip directory (a real disk that fills up) "
        "and needs root, or unprivileged user namespaces, to do it: "
        f"{probe.stderr.strip() or probe.returncode}"
    )


async def run_scenario(simulator: Simulator, data_dir: Path) -> dict[str, Any]:
    setup = {
        "data_dir": str(data_dir),
        "tmpfs_mib": TMPFS_MIB,
        "floor_mib": FLOOR_MIB,
        "cameras": [camera_entry(d) for d in simulator.devices.values()],
    }
    process = await asyncio.create_subprocess_exec(
        *namespace_command(), sys.executable, "-m", "tests.faults.disk_full_scenario",
        json.dumps(setup), cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 240)
    lines = out.decode().strip().splitlines()
    assert process.returncode == 0, err.decode()[-4000:]
    assert lines, err.decode()[-4000:]
    result: dict[str, Any] = json.loads(lines[-1])
    assert "failed" not in result, (result["failed"], err.decode()[-4000:])
    return result


async def test_a_full_disk_pauses_recording_keeps_held_clips_and_resumes(
    simulator_factory: StartSimulator, tmp_path: Path
) -> None:
    reason = await asyncio.to_thread(can_mount)
    assert reason is None, reason
    async with simulator_factory(cameras=4, doorbells=0) as simulator:
        result = await run_scenario(simulator, tmp_path / "data")

    assert result["space_messages"] == [], result  # no write ever met ENOSPC
    assert result["failures"] == 0
    assert result["tracebacks"] == 0
    # Only held clips were left, and they survived.
    assert len(result["held"]) == 2
    assert set(result["held"]) <= set(result["remaining_ids"])
    assert result["held_files"] == [True, True]
    assert set(result["statuses_paused"].values()) == {"paused"}
    assert result["health_paused"]["state"] == "paused"
    assert "disk full" in result["health_paused"]["reason"]
    assert result["free_paused_mib"] > 0
    # Space freed: every camera records again, the alarm is gone.
    assert result["health_resumed"]["state"] == "ok"
    assert result["health_resumed"]["recording"] == 4
    assert set(result["errors"].values()) == {None}
    print(f"paused {result['pause_s']:.1f} s after the disk filled; resumed "
          f"{result['resume_s']:.1f} s after space was freed")  # fmt: skip
