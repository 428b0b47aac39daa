"""Drivers load through real entry points; a broken or wrong driver is reported, never fatal."""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from doorstep.drivers.rtsp import RtspDriver
from doorstep.gateway.config.models import CameraConfig
from doorstep.gateway.devices.registry import LEGACY_VERSION_NOTE, load_drivers
from doorstep.sdk import API_VERSION, ApiVersion, api_version_problem, deprecated

DRIVERS = """
import warnings

from pydantic import BaseModel

from doorstep.sdk import API_VERSION, ApiVersion, DriverOptions, deprecated

class GoodDriver:
    name = "good"
    api_version = API_VERSION

    def create(self, config, context):
        raise NotImplementedError

class OldDriver(GoodDriver):
    name = "old"
    api_version = ApiVersion(API_VERSION.major - 1, 0)

class NextMajorDriver(GoodDriver):
    name = "nextmajor"
    api_version = ApiVersion(API_VERSION.major + 1, 0)

class OlderMinorDriver(GoodDriver):
    name = "olderminor"
    api_version = ApiVersion(API_VERSION.major, 0)

class NewerMinorDriver(GoodDriver):
    name = "newerminor"
    api_version = ApiVersion(API_VERSION.major, API_VERSION.minor + 3)

class IntVersionDriver(GoodDriver):
    name = "intversion"
    api_version = 1

class UsesDeprecatedDriver(GoodDriver):
    name = "usesdeprecated"

    def __init__(self):
        # once per process: name it after this test's copy of the module
        deprecated(f"the fake thing of {__file__}", since="1.1", instead="the real thing")

class LaxOptions(BaseModel):
    path: str = "/"

class LaxOptionsDriver(GoodDriver):
    name = "laxoptions"
    options_model = LaxOptions

class StrictOptions(DriverOptions):
    path: str = "/"

class StrictOptionsDriver(GoodDriver):
    name = "strictoptions"
    options_model = StrictOptions

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
nextmajor = fake_drivers_good:NextMajorDriver
olderminor = fake_drivers_good:OlderMinorDriver
newerminor = fake_drivers_good:NewerMinorDriver
intversion = fake_drivers_good:IntVersionDriver
usesdeprecated = fake_drivers_good:UsesDeprecatedDriver
laxoptions = fake_drivers_good:LaxOptionsDriver
strictoptions = fake_drivers_good:StrictOptionsDriver
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
    with caplog.at_level(logging.ERROR, logger="doorstep.gateway.devices.registry"):
        registry = load_drivers()
    assert {"rtsp", "good"} <= set(registry.drivers)
    assert registry.failures["broken"] == "ImportError: needs libfoo"
    assert "written for driver API 0.0" in registry.failures["old"]
    assert "calls itself 'something-else'" in registry.failures["misnamed"]
    assert "does not implement doorstep.sdk.DriverFactory" in registry.failures["notadriver"]
    assert registry.failures["missing"].startswith("ModuleNotFoundError")
    assert "must forbid extra fields" in registry.failures["laxoptions"]
    assert "strictoptions" in registry.drivers
    logged = caplog.text
    for name in ("broken", "old", "misnamed", "notadriver", "missing", "laxoptions"):
        assert f"driver {name} failed to load" in logged


def test_version_policy_major_must_match_minor_may_be_older(fake_distribution: Path) -> None:
    registry = load_drivers()
    offered = f"{API_VERSION.major}.{API_VERSION.minor}"
    assert "olderminor" in registry.drivers
    assert "intversion" in registry.drivers  # the 1.0 SDK's `api_version = 1` means 1.0
    assert registry.failures["nextmajor"] == (
        f"TypeError: written for driver API {API_VERSION.major + 1}.0, this gateway offers "
        f"{offered} (majors differ)"
    )
    assert registry.failures["newerminor"] == (
        f"TypeError: written for driver API {API_VERSION.major}.{API_VERSION.minor + 3}, "
        f"newer than this gateway's {offered}: update Doorstep"
    )


def test_policy_on_a_later_gateway() -> None:
    assert api_version_problem(ApiVersion(1, 0), ApiVersion(1, 3)) is None
    assert api_version_problem(1, ApiVersion(1, 3)) is None
    assert api_version_problem(ApiVersion(1, 4), ApiVersion(1, 3)) == (
        "written for driver API 1.4, newer than this gateway's 1.3: update Doorstep"
    )
    assert "majors differ" in (api_version_problem(ApiVersion(1, 0), ApiVersion(2, 0)) or "")
    for bad in ("1.0", True, (1,), (1, -1), None):
        assert "must be doorstep.sdk.API_VERSION" in (api_version_problem(bad) or "")


def test_deprecations_are_logged_when_a_driver_loads(
    fake_distribution: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="doorstep.gateway.devices.registry"):
        registry = load_drivers()
    assert "usesdeprecated" in registry.drivers
    assert registry.deprecations["usesdeprecated"] == [
        f"the fake thing of {fake_distribution / 'fake_drivers_good.py'} is deprecated since "
        "driver API 1.1; use the real thing"
    ]
    assert registry.deprecations["intversion"] == [LEGACY_VERSION_NOTE]
    assert "driver intversion uses a deprecated API" in caplog.text
    assert "good" not in registry.deprecations


def test_deprecated_warns_once_per_process() -> None:
    with pytest.warns(DeprecationWarning, match="thing-once is deprecated since driver API 1.1"):
        deprecated("thing-once", since="1.1", instead="the new thing")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deprecated("thing-once", since="1.1", instead="the new thing")  # silent the second time


def test_unknown_driver_missing_host_and_bad_options_are_config_problems() -> None:
    registry = load_drivers()
    cameras = [
        CameraConfig(id="a", name="A", driver="nosuch", host="10.0.0.1"),
        CameraConfig(id="b", name="B", driver="rtsp"),
        CameraConfig(id="c", name="C", driver="rtsp", host="10.0.0.3", options={"mian_path": "/x"}),
        CameraConfig(id="d", name="D", driver="rtsp", host="10.0.0.4", options={"main_path": "x"}),
        CameraConfig(id="e", name="E", driver="rtsp", host="10.0.0.5", options={"main_path": "/s"}),
    ]
    problems = [str(p) for p in registry.check_cameras(cameras)]
    assert problems[0].startswith("cameras[0].driver: unknown driver 'nosuch' (installed: ")
    assert "rtsp" in problems[0]
    assert problems[1:] == [
        "cameras[1].host: the rtsp driver needs a host",
        "cameras[2].options.mian_path: Extra inputs are not permitted",
        "cameras[3].options.main_path: Value error, must be an absolute RTSP path such as /stream1",
    ]
