"""Drivers load through real entry points; a broken or wrong driver is reported, never fatal."""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorstep.drivers.rtsp import RtspDriver
from doorstep.gateway.devices.registry import load_drivers

DRIVERS = """
from doorstep.sdk import API_VERSION

class GoodDriver:
    name = "good"
    api_version = API_VERSION

    def create(self, config, context):
        raise NotImplementedError

class OldDriver(GoodDriver):
    name = "old"
    api_version = API_VERSION - 1

class MisnamedDriver(GoodDriver):
    name = "something-else"

class NotADriver:
    pass
"""

ENTRY_POINTS = """
[doorstep.drivers]
good = fake_drivers_good:GoodDriver
broken = fake_drivers_broken:Driver
old = fake_drivers_good:OldDriver
misnamed = fake_drivers_good:MisnamedDriver
notadriver = fake_drivers_good:NotADriver
missing = fake_drivers_nowhere:Driver
"""


@pytest.fixture
def fake_distribution(tmp_path: Path) -> Iterator[Path]:
    """A real installed distribution (dist-info on sys.path) declaring several drivers."""
    (tmp_path / "fake_drivers_good.py").write_text(DRIVERS)
    (tmp_path / "fake_drivers_broken.py").write_text("raise ImportError('needs libfoo')\n")
    info = tmp_path / "fake_drivers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-drivers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in ("fake_drivers_good", "fake_drivers_broken"):
        sys.modules.pop(name, None)
    importlib.invalidate_caches()


def test_builtin_driver_loads_through_its_entry_point() -> None:
    registry = load_drivers()
    assert isinstance(registry.get("rtsp"), RtspDriver)


def test_broken_and_wrong_drivers_are_reported_not_fatal(
    fake_distribution: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="doorstep.gateway.plugins"):
        registry = load_drivers()
    assert {"rtsp", "good"} <= set(registry.drivers)
    assert registry.failures["broken"] == "ImportError: needs libfoo"
    assert "written for driver API 0" in registry.failures["old"]
    assert "calls itself 'something-else'" in registry.failures["misnamed"]
    assert "does not implement doorstep.sdk.DriverFactory" in registry.failures["notadriver"]
    assert registry.failures["missing"].startswith("ModuleNotFoundError")
    logged = caplog.text
    for name in ("broken", "old", "misnamed", "notadriver", "missing"):
        assert f"driver {name} failed to load" in logged
