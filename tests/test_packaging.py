"""The wheel as a user gets it: built once, installed into a fresh venv, then used there.

Also the README's third-party driver walkthrough, done exactly as written: its files are
extracted from README.md, installed next to the wheel, and the conformance kit runs on it.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from doorstep import sdk

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "gateway", "drivers", "protocols", "simulator", "webui")
README_FILE = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```$', re.MULTILINE | re.DOTALL)
BUILD_TIMEOUT_S = 600  # pip fetches setuptools for the isolated build
RUN_TIMEOUT_S = 120


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = RUN_TIMEOUT_S) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def readme_files() -> dict[str, str]:
    """The files the README's walkthrough writes, by path."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return dict(README_FILE.findall(text))


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment with the wheel and the README's driver installed."""

    root: Path
    wheel: Path
    acme: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def doorstep(self) -> Path:
        return self.root / "bin" / "doorstep"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(path, source / name)
    dist = base / "dist"
    pip = (sys.executable, "-m", "pip")
    _run(*pip, "wheel", "-q", "--no-deps", "-w", dist, source, timeout=BUILD_TIMEOUT_S)
    (wheel,) = dist.glob("doorstep-*.whl")
    acme = base / "walkthrough"
    for path, body in readme_files().items():
        (acme / path).parent.mkdir(parents=True, exist_ok=True)
        (acme / path).write_text(body, encoding="utf-8")
    root = base / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", root)
    venv = Venv(root, wheel, acme / "doorstep-acme")
    # Installed before the dependencies become visible, so pip sees no other doorstep to
    # replace (the suite's own editable install must stay untouched).
    _run(*pip, "--python", venv.python, "install", "-q", "--no-deps", wheel, timeout=300)
    _run(*pip, "--python", venv.python, "install", "-q", "--no-deps", venv.acme,
         timeout=BUILD_TIMEOUT_S)  # fmt: skip
    # The suite's dependencies, without its editable finder: a plain path line in a .pth
    # adds the directory but does not run the .pth files inside it.
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(_run(venv.python, "-c", code).strip())
    (purelib / "_suite_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_wheel_installs_only_the_doorstep_namespace(venv: Venv) -> None:
    names = zipfile.ZipFile(venv.wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    version = venv.wheel.name.split("-")[1]
    assert tops == {"doorstep", f"doorstep-{version}.dist-info"}
    for forbidden in ("gateway/", "drivers/", "webui/", "simulator/", "protocols/"):
        assert not any(name.startswith(forbidden) for name in names)
    for expected in (
        "doorstep/sdk/__init__.py",
        "doorstep/sdk/py.typed",
        "doorstep/sdk/conformance/plugin.py",
        "doorstep/drivers/rtsp/__init__.py",
        "doorstep/webui/index.html",
        "doorstep/simulator/__init__.py",
    ):
        assert expected in names
    assert any(re.match(r"doorstep/gateway/storage/migrations/.+\.sql$", n) for n in names)
    assert not any(n.startswith("doorstep/__init__") for n in names)  # a namespace
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(venv.wheel).read(entry_points).decode()
    assert "[pytest11]\ndoorstep_conformance = doorstep.sdk.conformance.plugin" in text
    assert "rtsp = doorstep.drivers.rtsp:RtspDriver" in text


def test_packages_list_matches_the_folders() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(setuptools["packages"])
    found = set()
    for name, folder in setuptools["package-dir"].items():
        for directory in [REPO / folder, *(p for p in (REPO / folder).rglob("*") if p.is_dir())]:
            if directory.name == "__pycache__" or not any(directory.glob("*.py")):
                continue
            assert (directory / "__init__.py").exists(), f"{directory} has modules, no __init__"
            relative = directory.relative_to(REPO / folder).parts
            found.add(".".join((name, *relative)))
    assert declared == found


def test_doorstep_version_runs_from_the_fresh_venv(venv: Venv) -> None:
    assert re.fullmatch(r"doorstep \d+\.\d+\.\d+\S*\n", _run(venv.doorstep, "--version"))
    where = _run(venv.python, "-c", "import doorstep.gateway as g; print(g.__file__)")
    assert Path(where.strip()).is_relative_to(venv.root)


def test_sdk_public_names_import_there(venv: Venv) -> None:
    code = (
        "from doorstep.sdk import API_VERSION, DeviceConfig, DriverFactory, DriverOptions\n"
        "import doorstep.sdk, sys\n"
        "print(doorstep.sdk.__file__)\n"
        "print(' '.join(doorstep.sdk.__all__))\n"
        "print(API_VERSION)\n"
        "print(any(m in sys.modules for m in ('aiortc', 'av', 'numpy', 'onvif')))\n"
    )
    where, names, version, heavy = _run(venv.python, "-c", code).splitlines()
    assert Path(where).is_relative_to(venv.root)
    assert names.split() == sdk.__all__
    assert version == str(sdk.API_VERSION)
    assert heavy == "False"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_doorstep_simulate_serves_and_stops(venv: Venv, tmp_path: Path, stop: int) -> None:
    log = tmp_path / "simulate.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [venv.doorstep, "simulate", "--cameras", "1", "--doorbells", "0",
             "--discovery-port", "0"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while "simulator running" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        match = re.search(r"onvif=http://127\.0\.0\.1:(\d+)/", log.read_text())
        assert match, log.read_text()
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
        connection.request("POST", "/onvif/device_service", body=b"not soap")
        status = connection.getresponse().status
        connection.close()
        assert 400 <= status < 600  # an ONVIF server answered (a SOAP fault for garbage)
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_readme_driver_passes_the_kit(venv: Venv) -> None:
    files = readme_files()
    assert set(files) == {
        "doorstep-acme/pyproject.toml",
        "doorstep-acme/doorstep_acme/__init__.py",
        "doorstep-acme/tests/test_acme.py",
    }
    output = _run(
        venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
        cwd=venv.acme, timeout=600,
    )  # fmt: skip
    checks = [n for n in dir(sdk_conformance()) if n.startswith("test_")]
    assert re.search(rf"\b{len(checks) + 1} passed\b", output), output
    loaded = _run(
        venv.python, "-c",
        "from doorstep.gateway.devices.registry import load_drivers\n"
        "r = load_drivers(); print(sorted(r.drivers), r.failures)",
    )  # fmt: skip
    assert loaded.strip() == "['acme', 'onvif', 'rtsp'] {}"


def sdk_conformance() -> type:
    """The kit's check class, as installed in this suite."""
    from doorstep.sdk.conformance import DriverConformance

    return DriverConformance
