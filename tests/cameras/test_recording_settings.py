"""A camera's recording settings changed by the owner (PATCH …/recording): the recorder follows
at once without restarting the camera, a press then records, the change is audited, bad values
are refused with their field, and it survives a restart (file cameras and adopted ones)."""

from __future__ import annotations

import asyncio
from typing import Any

from doorstep.gateway.events import CameraState
from doorstep.gateway.storage import ClipQuery
from doorstep.gateway.web.keys import AUDIT, DEVICES, RECORDING, STORAGE
from doorstep.simulator import Simulator

from ..integration.conftest import Gateway, StartGateway, camera_entry
from ..media.probes import wait_until
from .settings_helpers import by_header, get, patch


async def _clips(gateway: Gateway, camera_id: str) -> list[Any]:
    return await gateway.app[STORAGE].clips.find(ClipQuery(cameras=[camera_id]))


async def test_the_owner_turns_recording_on_for_one_camera_without_a_restart(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    entries = [camera_entry(d) for d in simulator.devices.values()]
    gateway = await start_gateway(entries, by_header)  # recording off for every camera
    await gateway.state("doorbell-1", CameraState.ONLINE)
    supervisor = gateway.app[DEVICES].supervisors["doorbell-1"]
    status, settings = await get(gateway, "/api/cameras/doorbell-1/settings")
    assert status == 200
    assert settings["recording"] == {}
    assert settings["recording_defaults"]["mode"] == "off"
    assert settings["recording_defaults"]["clip_days"] >= 1
    assert {"recording.mode", "recording.audio", "recording.clip_days"} <= set(settings["editable"])
    assert gateway.app[RECORDING].recorders == {}

    change = {"recording": {"mode": "events", "postroll_s": 1, "preroll_s": 1}}
    status, view = await patch(gateway, "doorbell-1", change)
    assert status == 200, view
    assert gateway.app[DEVICES].supervisors["doorbell-1"] is supervisor  # not restarted
    assert list(gateway.app[RECORDING].recorders) == ["doorbell-1"]  # that camera only
    assert view["recording"]["state"] in ("idle", "recording")
    [entry] = await gateway.app[AUDIT].query(action="camera.update")
    assert entry.detail["changed"] == [
        "recording.mode", "recording.postroll_s", "recording.preroll_s",
    ]  # fmt: skip
    assert entry.detail["recording"] == {"mode": "events", "postroll_s": 1, "preroll_s": 1}
    status, settings = await get(gateway, "/api/cameras/doorbell-1/settings")
    assert settings["recording"] == {"mode": "events", "postroll_s": 1.0, "preroll_s": 1.0}
    assert settings["overridden"] == [
        "recording.mode", "recording.postroll_s", "recording.preroll_s",
    ]  # fmt: skip

    # A press now records.
    recorder = gateway.app[RECORDING].recorders["doorbell-1"]
    assert await wait_until(lambda: recorder._preroll.bytes > 0, 10)
    assert simulator.devices["doorbell-1"].press()
    for _ in range(300):
        if await _clips(gateway, "doorbell-1"):
            break
        await asyncio.sleep(0.1)
    [clip] = await _clips(gateway, "doorbell-1")
    assert "doorbell" in clip.kinds

    # Back to the gateway's setting (off): the recorder stops, the clip stays.
    status, view = await patch(gateway, "doorbell-1", {"recording": {"mode": None}})
    assert status == 200, view
    assert "doorbell-1" not in gateway.app[RECORDING].recorders
    assert view["recording"]["state"] == "off"
    status, settings = await get(gateway, "/api/cameras/doorbell-1/settings")
    assert settings["recording"] == {"postroll_s": 1.0, "preroll_s": 1.0}
    assert len(await _clips(gateway, "doorbell-1")) == 1


async def test_bad_recording_values_are_refused_with_their_field(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway([camera_entry(simulator.devices["doorbell-1"])], by_header)
    await gateway.state("doorbell-1", CameraState.ONLINE)
    for body, where in (
        ({"recording": {"preroll_s": 31}}, "preroll_s"),
        ({"recording": {"mode": "sometimes"}}, "mode"),
        ({"recording": {"clip_days": 0}}, "clip_days"),
        ({"recording": {"events": ["doorbell", "ghosts"]}}, "events"),
        ({"recording": {"audio": "yes"}}, "audio"),
        ({"recording": {"bogus": 1}}, "bogus"),
        ({"recording": ["off"]}, "recording"),
    ):
        status, answer = await patch(gateway, "doorbell-1", body)
        assert status == 422, (body, answer)
        assert where in str(answer), (body, answer)
    status, answer = await patch(
        gateway, "doorbell-1", {"recording": {"mode": "continuous"}}, as_role="resident"
    )
    assert status == 403, answer
    assert gateway.app[RECORDING].recorders == {}
    refused = await gateway.app[AUDIT].query(action="camera.update")
    assert {e.outcome for e in refused} <= {"failed"}


async def test_recording_settings_survive_a_restart_for_file_and_adopted_cameras(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    doorbell, camera = simulator.devices["doorbell-1"], simulator.devices["camera-1"]
    entries = [camera_entry(doorbell)]
    gateway = await start_gateway(entries, by_header)
    p = camera.profile
    adopt = {
        "host": p.host, "port": p.onvif_port, "username": p.username,
        "password": p.password, "name": "Yard",
    }  # fmt: skip
    async with gateway.client.post("/api/cameras", json=adopt) as response:
        assert response.status == 201, await response.text()
    await gateway.state("doorbell-1", CameraState.ONLINE)
    await gateway.state("yard", CameraState.ONLINE)
    for camera_id in ("doorbell-1", "yard"):
        body = {"recording": {"mode": "continuous", "audio": False, "continuous_days": 3}}
        status, view = await patch(gateway, camera_id, body)
        assert status == 200, view
    assert sorted(gateway.app[RECORDING].recorders) == ["doorbell-1", "yard"]
    await gateway.client.close()

    gateway = await start_gateway(entries, by_header)
    await gateway.state("doorbell-1", CameraState.ONLINE)
    await gateway.state("yard", CameraState.ONLINE)
    for camera_id, source in (("doorbell-1", "config"), ("yard", "adopted")):
        status, settings = await get(gateway, f"/api/cameras/{camera_id}/settings")
        assert settings["source"] == source
        assert settings["recording"] == {
            "mode": "continuous", "audio": False, "continuous_days": 3,
        }  # fmt: skip
        policy = gateway.app[RECORDING].recorders[camera_id].policy
        assert (policy.mode, policy.audio) == ("continuous", False)
    # Back to the defaults: nothing is left stored for either camera.
    for camera_id in ("doorbell-1", "yard"):
        body = {"recording": {"mode": None, "audio": None, "continuous_days": None}}
        status, view = await patch(gateway, camera_id, body)
        assert status == 200, view
    assert await wait_until(lambda: not gateway.app[RECORDING].recorders, 5)
    storage = gateway.app[STORAGE]
    assert [s for s in await storage.cameras.settings() if s.field.startswith("recording.")] == []
