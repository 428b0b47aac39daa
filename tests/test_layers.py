"""The import contracts are executable: an upward import, a module outside every layer and a
package outside every contract each break them; and modules stay small."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SIZE_LIMIT = 400
SIZE_REASON = "# Over 400 lines:"


def _package_dirs() -> dict[str, Path]:
    """Installed package name → source folder, from pyproject's package-dir mapping."""
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    return {name: REPO / folder for name, folder in mapping.items()}


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sources laid out under their installed names, with the project's contracts."""
    root = tmp_path_factory.mktemp("layers")
    for name, folder in _package_dirs().items():
        shutil.copytree(
            folder,
            root.joinpath(*name.split(".")),
            ignore=shutil.ignore_patterns("__pycache__", "sdk"),
        )
    shutil.copytree(REPO / "drivers" / "sdk", root / "doorstep" / "sdk", dirs_exist_ok=True)
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    return root


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copy comes first on the path, ahead of the editable install's finder.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _with_module(source_tree: Path, tmp_path: Path, relative: str, text: str) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(source_tree, tree)
    (tree / relative).write_text(text)
    return tree


def test_the_copied_tree_keeps_every_contract(source_tree: Path) -> None:
    result = _lint(source_tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("relative", "text", "broken"),
    [
        (
            "doorstep/gateway/storage/upward.py",
            '"""Storage reaching up into the web."""\nfrom doorstep.gateway.web import server\n',
            "The gateway's layers",
        ),
        (
            "doorstep/gateway/bus/upward.py",
            '"""The bus reaching up into devices."""\nimport doorstep.gateway.devices.supervisor\n',
            "The gateway's layers",
        ),
        (
            "doorstep/sdk/upward.py",
            '"""The SDK reaching into the gateway."""\nimport doorstep.gateway.app\n',
            "The SDK and the protocols stand alone",
        ),
        (
            "doorstep/sdk/heavy.py",
            '"""The SDK pulling in aiortc."""\nimport aiortc\n',
            "The SDK and the protocols stand alone",
        ),
        (
            "doorstep/drivers/onvif/upward.py",
            '"""A driver importing the gateway."""\nfrom doorstep.gateway.bus import event_bus\n',
            "Drivers use the SDK and the protocols",
        ),
        (
            "doorstep/gateway/devices/sideways.py",
            '"""The gateway importing a driver."""\nimport doorstep.drivers.onvif\n',
            "The gateway loads drivers by entry point",
        ),
        (
            "doorstep/gateway/web/simulated.py",
            '"""The gateway importing the simulator."""\nimport doorstep.simulator\n',
            "The gateway never imports the simulator",
        ),
        (
            "doorstep/simulator/upward.py",
            '"""The simulator importing the gateway."""\nimport doorstep.gateway.config\n',
            "The simulator is a camera",
        ),
        (
            "doorstep/gateway/grabbag.py",
            '"""A new module that falls under no layer."""\n',
            "The gateway's layers",
        ),
    ],
    ids=[
        "storage-imports-web",
        "bus-imports-devices",
        "sdk-imports-gateway",
        "sdk-imports-aiortc",
        "driver-imports-gateway",
        "gateway-imports-driver",
        "gateway-imports-simulator",
        "simulator-imports-gateway",
        "module-outside-every-layer",
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    source_tree: Path, tmp_path: Path, relative: str, text: str, broken: str
) -> None:
    result = _lint(_with_module(source_tree, tmp_path, relative, text))
    assert result.returncode != 0, result.stdout
    report = result.stdout.split("Broken contracts", 1)[-1]
    assert broken in " ".join(report.split()), result.stdout


def test_an_import_cycle_between_siblings_breaks_the_acyclic_contract(
    source_tree: Path, tmp_path: Path
) -> None:
    tree = _with_module(
        source_tree,
        tmp_path,
        "doorstep/protocols/ping.py",
        '"""Half of a cycle."""\nfrom doorstep.protocols import pong\n',
    )
    (tree / "doorstep/protocols/pong.py").write_text(
        '"""The other half."""\nfrom doorstep.protocols import ping\n'
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "No import cycles" in result.stdout.split("Broken contracts", 1)[-1]


def test_every_installed_package_is_under_the_contracts() -> None:
    roots = set(PYPROJECT["tool"]["importlinter"]["root_packages"])
    installed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    uncovered = {
        name
        for name in installed
        if name != "doorstep.webui"
        and not any(name == r or name.startswith(r + ".") for r in roots)
    }
    assert not uncovered, f"packages no import contract looks at: {sorted(uncovered)}"


def _line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_source_file_is_over_400_lines_without_a_reason_at_its_top() -> None:
    offenders = []
    for folder in _package_dirs().values():
        for path in sorted(folder.rglob("*.py")):
            if _line_count(path) <= SIZE_LIMIT:
                continue
            top = path.read_text().splitlines()[:3]
            if not any(
                line.startswith(SIZE_REASON) and len(line) > len(SIZE_REASON) + 10 for line in top
            ):
                offenders.append(f"{path.relative_to(REPO)} ({_line_count(path)} lines)")
    assert not offenders, f"over {SIZE_LIMIT} lines with no '{SIZE_REASON} <why>' line: {offenders}"
