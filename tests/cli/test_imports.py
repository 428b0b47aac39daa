"""Quick commands import only what they use: no media stack, web server or gateway app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "aiortc", "av", "aiohttp", "onvif", "zeep", "numpy", "aiosqlite", "pydantic", "yaml",
    "doorstep.gateway.app", "doorstep.gateway.web", "doorstep.gateway.devices",
    "doorstep.gateway.storage", "doorstep.simulator.runner", "doorstep.simulator.device",
    "doorstep.drivers",
)  # fmt: skip
"""Top-level names (and their submodules) a quick command must not load."""

PROBE = """
import json, sys
from doorstep.gateway.cli.main import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as fh:
    json.dump(sorted(sys.modules), fh)
"""


def modules_loaded_by(tmp_path: Path, *argv: str) -> set[str]:
    """The modules a `doorstep …` command has imported when it is done."""
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *argv],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return set(json.loads(out.read_text()))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize(
    "argv", [("--version",), ("--help",), ("simctl", "--help"), ("simulate", "--help")]
)
def test_quick_commands_load_nothing_heavy(tmp_path: Path, argv: tuple[str, ...]) -> None:
    modules = modules_loaded_by(tmp_path, *argv)
    assert "doorstep.gateway.cli.main" in modules  # the probe ran the command
    assert heavy(modules) == []


def test_simctl_reaches_the_simulator_without_loading_its_devices(tmp_path: Path) -> None:
    modules = modules_loaded_by(tmp_path, "simctl", "list", "--url", "http://127.0.0.1:9")
    assert "doorstep.simulator.command" in modules
    assert heavy(modules) == []


def test_the_probe_sees_a_heavy_command(tmp_path: Path) -> None:
    # check-config validates with pydantic: the probe must notice it.
    config = tmp_path / "c.yaml"
    config.write_text("version: 1\n")
    assert "pydantic" in {
        m.split(".")[0] for m in heavy(modules_loaded_by(tmp_path, "check-config", str(config)))
    }
