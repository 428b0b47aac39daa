"""The kit fails drivers that break the contract: each fault is caught by its check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from doorstep.sdk.conformance import DriverConformance

CHECKS = len([n for n in dir(DriverConformance) if n.startswith("test_")])

DRIVER_TESTS = """
import asyncio

import pytest

from doorstep.sdk import API_VERSION, DeviceConfig, DeviceInfo, DeviceUnavailable
from doorstep.sdk.conformance import ConformanceTarget, DriverConformance, only_device


class Camera:
    def __init__(self, config, faults):
        self.config, self.faults, self.closed = config, faults, 0

    async def connect(self):
        try:
            reader, writer = await asyncio.open_connection(self.config.host, self.config.port)
        except OSError as exc:
            if "bare" in self.faults:
                raise
            raise DeviceUnavailable(str(exc)) from None
        try:
            writer.write(b"OPTIONS rtsp://x/ RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n")
            try:
                await reader.readline()
            except BaseException as exc:
                if "deaf" in self.faults:  # turns its cancellation into a device fault: a bug
                    raise DeviceUnavailable("no answer") from None
                raise
        finally:
            writer.close()
        return DeviceInfo(manufacturer="Kit", model="Test")

    async def close(self):
        self.closed += 1
        if "fragile" in self.faults and self.closed > 1:
            raise RuntimeError("closed twice")


class Driver:
    name = "kittest"
    api_version = API_VERSION

    def __init__(self, faults=()):
        self.faults = faults

    def create(self, config, context):
        if "busy" in self.faults:
            asyncio.get_running_loop().create_task(asyncio.sleep(0.2), name="started-in-create")
        return Camera(config, self.faults)


def target(simulator, *faults):
    camera = only_device(simulator).profile
    config = DeviceConfig(id="kit", host=camera.host, port=camera.rtsp_port)
    return ConformanceTarget(Driver(faults), config, checks_credentials=False, timeout_s=10)


class TestGood(DriverConformance):
    @pytest.fixture
    def doorstep_target(self, doorstep_simulator):
        return target(doorstep_simulator)


class TestBare(DriverConformance):
    @pytest.fixture
    def doorstep_target(self, doorstep_simulator):
        return target(doorstep_simulator, "bare")


class TestFragile(DriverConformance):
    @pytest.fixture
    def doorstep_target(self, doorstep_simulator):
        return target(doorstep_simulator, "fragile")


class TestDeaf(DriverConformance):
    @pytest.fixture
    def doorstep_target(self, doorstep_simulator):
        return target(doorstep_simulator, "deaf")


class TestBusy(DriverConformance):
    @pytest.fixture
    def doorstep_target(self, doorstep_simulator):
        return target(doorstep_simulator, "busy")


def test_without_a_target(doorstep_target):
    pass
"""


def test_each_fault_fails_its_check(tmp_path: Path) -> None:
    (tmp_path / "test_kit_driver.py").write_text(DRIVER_TESTS)
    report = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(tmp_path), f"--junitxml={report}", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    outcomes: dict[str, str] = {}
    for case in ElementTree.parse(report).iter("testcase"):  # noqa: S314  # our own report
        name = case.get("classname", "").rpartition(".")[2] + "::" + case.get("name", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        outcomes[name] = "passed" if problem is None else problem.get("message", "")
    good = {name: result for name, result in outcomes.items() if name.startswith("TestGood::")}
    assert len(good) == CHECKS
    assert set(good.values()) == {"passed"}, good
    expected = {
        "TestBare::test_unreachable_device_is_unavailable": "raised a bare ConnectionRefusedError",
        "TestFragile::test_close_is_idempotent": "close() raised RuntimeError: closed twice",
        "TestDeaf::test_cancelled_connect_unwinds": "connect() swallowed its cancellation",
        "TestBusy::test_create_is_cheap_and_fresh": "create() started tasks",
        "test_kit_driver::test_without_a_target": "needs a `doorstep_target` fixture",
    }
    for test, message in expected.items():
        assert message in outcomes[test], (test, outcomes[test])
    failed = {name for name, result in outcomes.items() if result != "passed"}
    assert failed == set(expected), failed  # each fault is caught by its own check alone
