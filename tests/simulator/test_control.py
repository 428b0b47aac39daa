"""The simulator as a user runs it: `doorstep simulate`, its control API and `doorstep simctl`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from doorstep.simulator import Simulator

from ..conftest import REPO


async def test_control_api_needs_its_token(simulator: Simulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{simulator.control_url}/devices/doorbell-1/press") as response:
            assert response.status == 401
        headers = {"Authorization": "Bearer wrong"}
        async with http.get(f"{simulator.control_url}/devices", headers=headers) as response:
            assert response.status == 401


async def test_control_api_drives_the_devices(simulator: Simulator) -> None:
    headers = {"Authorization": f"Bearer {simulator.control_token}"}
    doorbell = simulator.devices["doorbell-1"]
    async with aiohttp.ClientSession(base_url=simulator.control_url, headers=headers) as http:
        async with http.get("/devices") as response:
            names = [d["name"] for d in await response.json()]
        assert names == ["doorbell-1", "camera-1"]
        async with http.post("/devices/doorbell-1/press") as response:
            assert response.status == 200
        assert doorbell.properties["visitor"].value is True
        async with http.post("/devices/camera-1/press") as response:
            assert response.status == 409
        async with http.post("/devices/camera-1/motion", json={"active": True}) as response:
            assert response.status == 200
        assert simulator.devices["camera-1"].properties["motion"].value is True
        async with http.post("/devices/doorbell-1/clock", json={"skew_s": 3600}) as response:
            assert response.status == 200
        assert 3590 < (doorbell.now() - doorbell.boot_time).total_seconds() < 3700
        async with http.post("/devices/doorbell-1/hostile", json={"mode": "rm -rf"}) as response:
            assert response.status == 400
        async with http.post("/devices/nobody/press") as response:
            assert response.status == 404
        async with http.post("/devices/doorbell-1/slow", json={"delay_s": "x"}) as response:
            assert response.status == 400
        async with http.get("/devices/doorbell-1/backchannel") as response:
            assert (await response.json())["packets"] == 0


def test_simulate_command_prints_devices_and_simctl_presses(tmp_path: Path) -> None:
    control = tmp_path / "control.json"
    log = (tmp_path / "sim.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "doorstep.gateway", "simulate", "--cameras", "2", "--doorbells", "1",
         "--discovery-port", "0", "--control-file", str(control)],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "simulator running" not in (tmp_path / "sim.log").read_text():
            assert process.poll() is None, (tmp_path / "sim.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        output = (tmp_path / "sim.log").read_text()
        lines = [line for line in output.splitlines() if re.match(r"^(doorbell|camera)-\d", line)]
        assert len(lines) == 3
        for line in lines:
            assert re.search(
                r"onvif=http://127\.0\.0\.1:\d+/onvif/device_service rtsp=rtsp://127\.0\.0\.1:\d+/",
                line,
            )
            assert "user=admin password=doorstep" in line
        assert control.stat().st_mode & 0o077 == 0  # the token file is private
        simctl = [
            sys.executable,
            "-m",
            "doorstep.gateway",
            "simctl",
            "--control-file",
            str(control),
        ]
        pressed = subprocess.run(
            [*simctl, "press", "doorbell-1"], capture_output=True, text=True, check=False
        )
        assert pressed.returncode == 0, pressed.stderr
        listed = subprocess.run([*simctl, "list"], capture_output=True, text=True, check=True)
        assert [d["name"] for d in json.loads(listed.stdout)] == [
            "doorbell-1",
            "camera-1",
            "camera-2",
        ]
        refused = subprocess.run(
            [*simctl, "press", "camera-1"], capture_output=True, text=True, check=False
        )
        assert refused.returncode == 1
        assert "409" in refused.stderr
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        log.close()
