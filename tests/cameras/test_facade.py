"""The camera façade against the simulator: views for a caller, the main stream's target, talk
through the ONVIF driver's own `HasTalk`, and typed refusals."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from doorstep.drivers.onvif import OnvifDriver
from doorstep.gateway.cameras.adoption import AdoptRequest
from doorstep.gateway.cameras.errors import CameraConflict, CameraNotFound, CameraUnavailable
from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import CAMERAS
from doorstep.sdk import (
    DeviceConfig,
    Discoverer,
    DriverContext,
    HasTalk,
    Unsupported,
    capabilities_of,
)
from doorstep.simulator import Simulator

from ..integration.conftest import Gateway, StartGateway, camera_entry


async def both_online(simulator: Simulator, start_gateway: StartGateway) -> Gateway:
    gateway = await start_gateway([camera_entry(d) for d in simulator.devices.values()])
    for camera_id in simulator.devices:
        await gateway.state(camera_id, CameraState.ONLINE)
    return gateway


async def test_views_are_for_the_caller_and_carry_no_credentials(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    cameras = (await both_online(simulator, start_gateway)).app[CAMERAS]
    assert [v.id for v in cameras.views(lambda c: c == "doorbell-1")] == ["doorbell-1"]
    assert {v.id for v in cameras.views(lambda c: True)} == {"doorbell-1", "camera-1"}
    for view in cameras.views(lambda c: True):
        assert simulator.devices[view.id].profile.password not in view.model_dump_json()
    with pytest.raises(CameraNotFound):
        cameras.view("camera-1", lambda c: c == "doorbell-1")
    with pytest.raises(CameraNotFound):
        cameras.view("nowhere", lambda c: True)
    # The speaker flag keeps its meaning: the doorbell has one, the camera has none.
    assert (cameras.talk("doorbell-1"), cameras.talk("camera-1")) == (True, False)
    # ...and a camera without one does not list talk among its capabilities.
    views = {v.id: v for v in cameras.views(lambda c: True)}
    assert "talk" in views["doorbell-1"].capabilities
    assert "talk" not in views["camera-1"].capabilities


async def test_the_main_stream_target_is_read_afresh_with_its_credentials(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    cameras = (await both_online(simulator, start_gateway)).app[CAMERAS]
    target = cameras.stream_target("doorbell-1")()
    profile = simulator.devices["doorbell-1"].profile
    assert target.url.startswith(f"rtsp://{profile.host}:")
    assert (target.username, target.password) == (profile.username, profile.password)
    assert target.allow_basic is False
    with pytest.raises(CameraNotFound):
        cameras.stream_target("nowhere")
    with pytest.raises(CameraConflict):  # declared in the config file: it stays
        await cameras.remove("camera-1")


async def test_a_removed_camera_stream_says_why(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway([])
    cameras, p = gateway.app[CAMERAS], simulator.devices["camera-1"].profile
    view = await cameras.adopt(AdoptRequest(p.host, p.onvif_port, p.username, p.password, "Yard"))
    assert view.id == "yard"
    await gateway.state("yard", CameraState.ONLINE)
    opener = cameras.stream_target("yard")
    assert opener().password == p.password
    assert await cameras.remove("yard") is False
    with pytest.raises(CameraUnavailable):
        opener()  # removed meanwhile: the stream says why instead of using stale credentials


async def test_talk_opens_the_doorbell_backchannel_through_the_driver(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    cameras = (await both_online(simulator, start_gateway)).app[CAMERAS]
    doorbell = simulator.devices["doorbell-1"]
    sink = await cameras.talk_opener("doorbell-1")()
    try:
        assert (sink.codec, sink.sample_rate) == ("PCMU", 8000)
        for _ in range(5):
            await sink.send(b"\xff" * 160)
    finally:
        await sink.close()
    recorder = doorbell.rtsp_settings.recorder
    for _ in range(200):
        if recorder.packets >= 5:
            break
        await asyncio.sleep(0.05)
    assert recorder.packets >= 5
    with pytest.raises(Unsupported, match="no speaker"):
        await cameras.talk_opener("camera-1")()
    with pytest.raises(CameraNotFound):
        cameras.talk_opener("nowhere")


async def test_snapshots_are_cached_briefly(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    cameras = (await both_online(simulator, start_gateway)).app[CAMERAS]
    image = await cameras.snapshot("doorbell-1", lambda c: True)
    assert image.startswith(b"\xff\xd8")
    assert await cameras.snapshot("doorbell-1", lambda c: True) is image
    with pytest.raises(CameraNotFound):
        await cameras.snapshot("doorbell-1", lambda c: False)


async def test_the_onvif_driver_talks_and_discovers_itself(tmp_path: Path) -> None:
    driver = OnvifDriver()
    assert isinstance(driver, Discoverer)
    async with aiohttp.ClientSession() as http:
        context = DriverContext(http, logging.getLogger("test"), tmp_path)
        device = driver.create(DeviceConfig(id="x", host="127.0.0.1"), context)
        assert isinstance(device, HasTalk)
        assert "talk" in capabilities_of(device)
        await device.close()
