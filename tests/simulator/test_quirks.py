"""Quirks are selectable: in SimulatorConfig, on the command line (`--quirk`, repeatable) and
through the control API; each changes what the device does on the wire."""

from __future__ import annotations

import argparse

import aiohttp

from doorstep.simulator import Simulator
from doorstep.simulator.command import add_simulate_arguments, simulator_config
from doorstep.simulator.profile import Quirk

from .conftest import StartSimulator


def test_the_command_line_takes_quirks_repeatedly() -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    args = parser.parse_args(["--quirk", "basic-snapshot", "--quirk", "stale-pullpoints"])
    assert simulator_config(args).quirks == {Quirk.BASIC_SNAPSHOT, Quirk.STALE_PULLPOINTS}
    assert simulator_config(parser.parse_args([])).quirks == frozenset()


async def test_config_quirks_reach_every_device(simulator_factory: StartSimulator) -> None:
    quirks = frozenset({Quirk.STALE_PULLPOINTS, Quirk.DOORBELL_ON_INPUT})
    async with simulator_factory(cameras=1, doorbells=1, quirks=quirks) as simulator:
        for device in simulator.devices.values():
            assert device.profile.quirks == quirks
            assert device.subscriptions.count == device.profile.max_pullpoints  # all held
            assert device.summary()["quirks"] == sorted(q.value for q in quirks)
        visitor = simulator.devices["doorbell-1"].properties["visitor"]
        assert visitor.topic == "tns1:Device/Trigger/DigitalInput"  # a door station's button


async def test_the_control_api_switches_quirks(simulator: Simulator) -> None:
    headers = {"Authorization": f"Bearer {simulator.control_token}"}
    doorbell = simulator.devices["doorbell-1"]
    async with aiohttp.ClientSession(base_url=simulator.control_url, headers=headers) as http:
        async with http.post(
            "/devices/doorbell-1/quirks", json={"quirks": ["doorbell-on-input"]}
        ) as response:
            assert response.status == 200
        assert doorbell.has(Quirk.DOORBELL_ON_INPUT)
        assert doorbell.properties["visitor"].topic == "tns1:Device/Trigger/DigitalInput"
        async with http.post("/devices/doorbell-1/quirks", json={"quirks": ["nope"]}) as response:
            assert response.status == 400
        async with http.post("/devices/doorbell-1/quirks", json={"quirks": []}) as response:
            assert response.status == 200
        assert doorbell.properties["visitor"].topic == "tns1:RuleEngine/MyRuleDetector/Visitor"
        async with http.get("/devices") as response:
            summary = {d["name"]: d for d in await response.json()}
        assert summary["doorbell-1"]["quirks"] == []
        assert summary["doorbell-1"]["requests"] == {}  # nobody has called it yet


async def test_a_basic_snapshot_device_challenges_with_basic_only(simulator: Simulator) -> None:
    camera = simulator.devices["camera-1"]
    camera.set_quirks(frozenset({Quirk.BASIC_SNAPSHOT}))
    url = f"{camera.base_url}/snapshot.jpg"
    auth = aiohttp.encode_basic_auth(camera.profile.username, camera.profile.password)
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        async with http.get(url, headers={"Authorization": auth}) as response:
            assert response.status == 200
            assert (await response.read()).startswith(b"\xff\xd8")
