"""`doorstep check-config` checks cameras against their drivers: names, hosts and options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "doorstep.gateway", "check-config", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_unknown_driver_missing_host_and_bad_options_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "cameras:\n"
        "  - {id: a, name: A, driver: nosuch, host: 192.0.2.1}\n"
        "  - {id: b, name: B, driver: rtsp}\n"
        "  - {id: c, name: C, driver: rtsp, host: 192.0.2.3, options: {main_pth: /x}}\n"
    )
    result = check_config(path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}: cameras[0].driver: unknown driver 'nosuch' (installed: ")
    assert lines[1:] == [
        f"{path}: cameras[1].host: the rtsp driver needs a host",
        f"{path}: cameras[2].options.main_pth: Extra inputs are not permitted",
        f"{path}: 3 problem(s)",
    ]


def test_a_camera_fit_for_its_driver_passes(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "cameras:\n  - {id: c, name: C, driver: rtsp, host: 192.0.2.3, "
        "options: {main_path: /stream1}}\n"
    )
    result = check_config(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{path}: ok (1 camera(s))\n"
