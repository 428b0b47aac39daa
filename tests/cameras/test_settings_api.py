"""PATCH /api/cameras/{id} against the simulator with real SQLite: rename and live stream at once,
options and on/off by restarting that camera alone (no other camera's event lost), refusals
with their reasons, the owner only, and every change in the audit log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from doorstep.gateway.devices.supervisor import DISABLED_BY_OWNER
from doorstep.gateway.events import CameraEventReceived, CameraState, CameraStateChanged
from doorstep.gateway.storage.repositories.clips import ClipRecord
from doorstep.gateway.web.keys import AUDIT, CAMERAS, DEVICES, STORAGE
from doorstep.sdk import EventKind
from doorstep.simulator import Simulator

from ..conftest import free_port
from ..integration.conftest import StartGateway, camera_entry
from .settings_helpers import by_header, collect, get, patch


async def test_rename_and_live_stream_apply_at_once_without_a_restart(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway([camera_entry(d) for d in simulator.devices.values()], by_header)
    await gateway.state("camera-1", CameraState.ONLINE)
    supervisor = gateway.app[DEVICES].supervisors["camera-1"]
    status, view = await get(gateway, "/api/cameras/camera-1")
    assert status == 200
    assert (view["live_stream"], view["source"], view["status_text"]) == (
        "main",
        "config",
        "Online",
    )
    assert {"name", "enabled", "live_stream", "password", "options.doorbell_input"} <= set(
        view["editable"]
    )
    status, view = await patch(gateway, "camera-1", {"name": "Garden", "live_stream": "sub"})
    assert status == 200, view
    assert (view["name"], view["live_stream"], view["state"]) == ("Garden", "sub", "online")
    assert gateway.app[DEVICES].supervisors["camera-1"] is supervisor  # not restarted
    cameras = gateway.app[CAMERAS]
    assert cameras.live_stream_name("camera-1") == "sub"
    assert cameras.stream_target("camera-1", "sub")().url.endswith("/stream/sub")
    # Recording keeps the main stream, whatever live view opens.
    assert cameras.stream_target("camera-1")().url.endswith("/stream/main")
    status, listed = await get(gateway, "/api/cameras", as_role="resident")
    assert status == 200
    garden = next(c for c in listed["cameras"] if c["id"] == "camera-1")
    assert (garden["name"], garden["editable"]) == ("Garden", [])  # residents edit nothing
    [entry] = await gateway.app[AUDIT].query(action="camera.update")
    assert (entry.actor, entry.target, entry.outcome) == ("olga", "camera:camera-1", "ok")
    assert entry.detail["changed"] == ["live_stream", "name"]
    assert (entry.detail["name"], entry.detail["live_stream"]) == ("Garden", "sub")
    # The same again changes nothing and writes nothing.
    status, _ = await patch(gateway, "camera-1", {"name": "Garden"})
    assert status == 200
    assert len(await gateway.app[AUDIT].query(action="camera.update")) == 1
    status, _ = await patch(gateway, "camera-1", {"live_stream": "main"})
    assert cameras.live_stream_name("camera-1") == "main"


async def test_only_the_owner_changes_cameras(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    gateway = await start_gateway([camera_entry(simulator.devices["camera-1"])], by_header)
    for role in ("resident", "neighbour"):
        status, body = await patch(gateway, "camera-1", {"name": "Mine now"}, as_role=role)
        assert status == 403, (role, body)
        status, body = await get(gateway, "/api/cameras/camera-1/settings", as_role=role)
        assert status == 403, (role, body)
    assert gateway.app[DEVICES].supervisors["camera-1"].name == "camera-1"
    assert await gateway.app[AUDIT].query(action="camera.update") == []
    status, settings = await get(gateway, "/api/cameras/camera-1/settings")
    assert status == 200
    assert (settings["name"], settings["password_set"], settings["overridden"]) == (
        "camera-1", True, [],
    )  # fmt: skip
    assert "doorstep" not in str(settings)  # the simulator's password is never shown
    assert settings["options_schema"]["properties"]["doorbell_input"]["description"]


async def test_options_restart_that_camera_alone_and_no_other_event_is_lost(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    doorbell, camera = simulator.devices["doorbell-1"], simulator.devices["camera-1"]
    gateway = await start_gateway([camera_entry(d) for d in simulator.devices.values()], by_header)
    for camera_id in ("doorbell-1", "camera-1"):
        await gateway.state(camera_id, CameraState.ONLINE)
    await collect(gateway.tap, 0.5)  # the Initialized burst
    ringing = gateway.app[DEVICES].supervisors["doorbell-1"]
    doorbell.profile.visitor_hold_s = 0.2
    presses = 0

    async def keep_pressing() -> None:
        nonlocal presses
        for _ in range(6):
            presses += doorbell.press()
            # Two events a press; the doorbell's own budget (1/s, burst 10) must not drop any.
            await asyncio.sleep(1.0)

    presser = asyncio.create_task(keep_pressing())
    try:
        await asyncio.sleep(1.5)
        status, view = await patch(gateway, "camera-1", {"options": {"motion_auto_clear_s": 1}})
        assert status == 200, view
        assert view["state"] == "connecting"
        await gateway.state("camera-1", CameraState.ONLINE)
    finally:
        await presser
    seen = await collect(gateway.tap, 1.5)
    rings = [
        m for m in seen
        if isinstance(m, CameraEventReceived) and m.camera_id == "doorbell-1"
        and m.event.kind is EventKind.DOORBELL and m.event.active and not m.event.initial
    ]  # fmt: skip
    assert presses == 6
    assert ringing.budget.dropped == 0
    assert len(rings) == presses  # none lost while camera-1 restarted
    assert gateway.app[DEVICES].supervisors["doorbell-1"] is ringing
    states = [m for m in seen if isinstance(m, CameraStateChanged)]
    assert {m.camera_id for m in states} == {"camera-1"}  # the doorbell never left online
    assert [m.state for m in states][-1] is CameraState.ONLINE
    assert CameraState.STOPPED in [m.state for m in states]
    # The new option is in force: motion that the camera never ends is cleared after 1 s.
    camera.motion(True)  # two topics: both start, and both are cleared
    events = [await gateway.next_event(timeout=10, camera="camera-1") for _ in range(4)]
    assert [e.event.active for e in events] == [True, True, False, False]
    assert {e.event.attributes.get("auto_clear") for e in events[2:]} == {"true"}
    [entry] = await gateway.app[AUDIT].query(action="camera.update")
    assert entry.detail == {
        "changed": ["options.motion_auto_clear_s"],
        "options": {"motion_auto_clear_s": 1},
    }


async def test_a_disabled_camera_stops_and_keeps_its_grants_and_history(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    camera = simulator.devices["camera-1"]
    p = camera.profile
    gateway = await start_gateway([], by_header)
    adopt = {"host": p.host, "port": p.onvif_port, "username": p.username,
             "password": p.password, "name": "Yard"}  # fmt: skip
    assert (await gateway.client.post("/api/cameras", json=adopt)).status == 201
    await gateway.state("yard", CameraState.ONLINE)
    storage = gateway.app[STORAGE]
    rosa = await storage.users.add("rosa", "not-a-hash", "resident", datetime.now(UTC))
    await storage.users.set_grants(rosa, {"yard"})
    await collect(gateway.tap, 0.5)
    camera.motion(True)
    await gateway.next_event(timeout=10, camera="yard")
    for _ in range(100):  # the history writer stores it
        if await storage.events.recent(["yard"]):
            break
        await asyncio.sleep(0.05)
    history = await storage.events.recent(["yard"])
    assert history

    status, view = await patch(gateway, "yard", {"enabled": False})
    assert status == 200, view
    assert (view["state"], view["reason"]) == ("disabled", DISABLED_BY_OWNER)
    assert (view["status_text"], view["hint"]) == (
        "Disabled by the owner",
        "Turn it on in its settings.",
    )
    for _ in range(100):  # it freed its subscription on the camera
        if camera.subscriptions.count == 0:
            break
        await asyncio.sleep(0.05)
    assert camera.subscriptions.count == 0
    assert (await gateway.client.get("/api/cameras/yard/snapshot")).status == 503
    assert await storage.users.grants(rosa) == {"yard"}
    assert await storage.events.recent(["yard"]) == history

    # It stays off across a restart of the gateway, and comes back when turned on.
    await gateway.client.close()
    gateway = await start_gateway([], by_header)
    await gateway.state("yard", CameraState.DISABLED)
    status, view = await get(gateway, "/api/cameras/yard")
    assert (view["name"], view["status_text"]) == ("Yard", "Disabled by the owner")
    status, view = await patch(gateway, "yard", {"enabled": True, "name": "Back yard"})
    assert status == 200, view
    await gateway.state("yard", CameraState.ONLINE)
    assert gateway.app[DEVICES].supervisors["yard"].name == "Back yard"
    assert await gateway.app[STORAGE].users.grants(rosa) == {"yard"}


async def test_refusals_say_why(simulator: Simulator, start_gateway: StartGateway) -> None:
    p = simulator.devices["camera-1"].profile
    only_main = {"id": "rtsp-1", "name": "Shed", "driver": "rtsp", "host": p.host,
                 "port": p.rtsp_port, "username": p.username, "password": p.password,
                 "options": {"main_path": "/stream/main"}}  # fmt: skip
    dead = {"id": "attic", "name": "Attic", "host": "127.0.0.1", "port": free_port()}
    gateway = await start_gateway(
        [camera_entry(simulator.devices["camera-1"]), only_main, dead], by_header
    )
    await gateway.state("camera-1", CameraState.ONLINE)
    await gateway.state("rtsp-1", CameraState.ONLINE)
    await gateway.state("attic", CameraState.UNAVAILABLE)
    before = gateway.app[DEVICES].supervisors["camera-1"]
    cases = [
        ("camera-1", {"options": {"motion_auto_clear_s": -1}}, "change_refused",
         "options.motion_auto_clear_s", "greater than or equal to 0"),
        ("camera-1", {"options": {"chime": True}}, "change_refused", "options.chime",
         "The onvif driver has no option \u201cchime\u201d"),
        ("camera-1", {"options": {"events": "sometimes"}}, "change_refused", "options.events",
         "options.events: Input should be 'auto', 'push' or 'pullpoint'"),
        ("rtsp-1", {"live_stream": "sub"}, "change_refused", "live_stream",
         "This camera offers only one stream (main)"),
        ("attic", {"live_stream": "sub"}, "change_refused", "live_stream",
         "The camera's streams aren't known until it is online"),
        ("camera-1", {"colour": "red"}, "invalid", None, "colour"),
        ("camera-1", {"enabled": "yes"}, "invalid", None, "enabled"),
        ("camera-1", {"name": "$(reboot)"}, "invalid", None, "name"),
        ("camera-1", {"name": ""}, "invalid", None, "name"),
        ("camera-1", {"password": ""}, "invalid", None, "password"),
        ("camera-1", [1, 2], "invalid", None, "body"),
    ]  # fmt: skip
    for camera_id, body, code, field, words in cases:
        status, answer = await patch(gateway, camera_id, body)
        assert status == 422, (body, answer)
        assert answer["error"] == code, (body, answer)
        assert words in answer["reason"], (body, answer)
        if field is not None:
            assert answer["field"] == field, (body, answer)
    status, answer = await patch(gateway, "nowhere", {"name": "X"})
    assert (status, answer["error"]) == (404, "no_such_camera")
    assert gateway.app[DEVICES].supervisors["camera-1"] is before  # nothing restarted
    status, shed = await get(gateway, "/api/cameras/rtsp-1")
    assert "live_stream" not in shed["editable"]
    assert {"options.main_path", "options.sub_path"} <= set(shed["editable"])
    status, attic = await get(gateway, "/api/cameras/attic")
    assert attic["reason"]  # the raw reason stays for the details toggle
    assert attic["status_text"] != attic["reason"]
    assert "127.0.0.1" in attic["status_text"]
    assert attic["hint"]
    failed = await gateway.app[AUDIT].query(action="camera.update")
    assert [e.outcome for e in failed] == ["failed"] * 5  # each refusal after the body parsed
    assert {e.target for e in failed} == {"camera:camera-1", "camera:rtsp-1", "camera:attic"}


async def test_a_camera_removed_but_kept_for_its_clips_does_not_come_back(
    simulator: Simulator, start_gateway: StartGateway
) -> None:
    """Before: its row, kept disabled for the clips, was supervised again at the next start."""
    p = simulator.devices["camera-1"].profile
    gateway = await start_gateway([], by_header)
    adopt = {"host": p.host, "port": p.onvif_port, "username": p.username,
             "password": p.password, "name": "Yard"}  # fmt: skip
    assert (await gateway.client.post("/api/cameras", json=adopt)).status == 201
    status, _ = await patch(gateway, "yard", {"live_stream": "main", "name": "Old yard"})
    assert status == 200
    clip = ClipRecord("clip-1", "yard", "yard/clip-1.mp4", datetime.now(UTC))
    await gateway.app[STORAGE].clips.add(clip)
    removed = await gateway.client.delete("/api/cameras/yard", json={})
    assert removed.status == 200
    assert "yard" not in gateway.app[DEVICES].supervisors
    await gateway.client.close()
    gateway = await start_gateway([], by_header)
    assert "yard" not in gateway.app[DEVICES].supervisors
    assert (await gateway.app[STORAGE].cameras.get("yard")) is not None  # kept for the clip
    status, listed = await get(gateway, "/api/cameras")
    assert listed["cameras"] == []
