"""A camera from config.yaml changed in the UI: the change is an override stored in SQLite that
survives a gateway restart, until that field is edited in the file (then the file wins); new
credentials are checked against the camera first and never stored or shown in clear."""

from __future__ import annotations

from doorstep.gateway.cameras.status_text import WRONG_PASSWORD
from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import AUDIT, DATABASE, DEVICES
from doorstep.sdk import EventKind
from doorstep.simulator import SimulatedDevice
from doorstep.simulator.profile import Quirk

from ..integration.conftest import Gateway, StartGateway, camera_entry
from ..simulator.conftest import StartSimulator
from .settings_helpers import by_header, get, patch

NEW_PASSWORD = "n3w-camera-secret"


async def _press(gateway: Gateway, station: SimulatedDevice) -> EventKind:
    """Press the station's button; the kind of the event it arrives as."""
    assert station.press()
    event = await gateway.next_event(timeout=10, camera="doorbell-1")
    assert (event.event.active, event.event.initial) == (True, False)
    return event.event.kind


async def test_overrides_survive_a_restart_until_the_file_changes(
    simulator_factory: StartSimulator, start_gateway: StartGateway
) -> None:
    async with simulator_factory(
        cameras=0, doorbells=1, quirks=frozenset({Quirk.DOORBELL_ON_INPUT})
    ) as simulator:
        station = simulator.devices["doorbell-1"]
        station.profile.visitor_hold_s = 0.3
        entry = camera_entry(station, name="Station")
        gateway = await start_gateway([entry], by_header)
        await gateway.state("doorbell-1", CameraState.ONLINE)
        await gateway.drain()
        assert await _press(gateway, station) is EventKind.DIGITAL_INPUT
        await gateway.drain()

        changes = {"name": "Front door", "options": {"doorbell_input": "1"}}
        status, view = await patch(gateway, "doorbell-1", changes)
        assert status == 200, view
        await gateway.state("doorbell-1", CameraState.ONLINE)
        await gateway.drain()
        assert await _press(gateway, station) is EventKind.DOORBELL
        await gateway.client.close()

        # Restarted on the same file: the owner's changes still apply.
        gateway = await start_gateway([entry], by_header)
        await gateway.state("doorbell-1", CameraState.ONLINE)
        await gateway.drain()
        status, settings = await get(gateway, "/api/cameras/doorbell-1/settings")
        assert (settings["name"], settings["source"]) == ("Front door", "config")
        assert settings["options"] == {"doorbell_input": "1"}
        assert settings["overridden"] == ["name", "options.doorbell_input"]
        assert await _press(gateway, station) is EventKind.DOORBELL
        await gateway.client.close()

        # The name edited in the file since: the file wins for the name, the option stays.
        gateway = await start_gateway([{**entry, "name": "Entrance"}], by_header)
        await gateway.state("doorbell-1", CameraState.ONLINE)
        status, settings = await get(gateway, "/api/cameras/doorbell-1/settings")
        assert (settings["name"], settings["overridden"]) == (
            "Entrance", ["options.doorbell_input"],
        )  # fmt: skip
        # Unsetting the option returns to the file's (none): no override is left.
        status, view = await patch(gateway, "doorbell-1", {"options": {"doorbell_input": None}})
        assert status == 200, view
        rows = await gateway.app[DATABASE].standard.fetchall("SELECT * FROM camera_settings")
        assert rows == []
        status, settings = await get(gateway, "/api/cameras/doorbell-1/settings")
        assert (settings["options"], settings["overridden"]) == ({}, [])


async def test_new_credentials_are_checked_sealed_and_kept_across_restarts(
    simulator_factory: StartSimulator, start_gateway: StartGateway
) -> None:
    async with simulator_factory(cameras=1, doorbells=0) as simulator:
        camera = simulator.devices["camera-1"]
        entry = camera_entry(camera)
        gateway = await start_gateway([entry], by_header)
        await gateway.state("camera-1", CameraState.ONLINE)
        supervisor = gateway.app[DEVICES].supervisors["camera-1"]

        status, refused = await patch(gateway, "camera-1", {"password": "not-the-password"})
        assert status == 422, refused
        assert (refused["reason"], refused["field"]) == (WRONG_PASSWORD.text, "password")
        assert "credentials refused" in refused["detail"]
        assert gateway.app[DEVICES].supervisors["camera-1"] is supervisor  # nothing changed
        assert supervisor.state is CameraState.ONLINE

        camera.profile.password = NEW_PASSWORD  # changed in the camera's own app...
        camera.schedule_reboot(0.2)  # ...which restarts it: the old password no longer works
        await gateway.state("camera-1", CameraState.NEEDS_CREDENTIALS)
        status, view = await get(gateway, "/api/cameras/camera-1")
        assert (view["state"], view["status_text"]) == ("needs_credentials", WRONG_PASSWORD.text)
        assert "credentials refused" in view["reason"]
        status, view = await patch(gateway, "camera-1", {"password": NEW_PASSWORD})
        assert status == 200, view
        await gateway.state("camera-1", CameraState.ONLINE)
        assert NEW_PASSWORD not in str(view)
        status, settings = await get(gateway, "/api/cameras/camera-1/settings")
        assert (settings["password_set"], settings["overridden"]) == (True, ["password"])
        assert NEW_PASSWORD not in str(settings)
        [row] = await gateway.app[DATABASE].standard.fetchall("SELECT * FROM camera_settings")
        assert row["field"] == "password"
        assert NEW_PASSWORD.encode() not in bytes(row["secret"])  # sealed
        assert NEW_PASSWORD not in row["value"] + (row["base"] or "")
        entries = await gateway.app[AUDIT].query(action="camera.update")
        assert [e.outcome for e in entries] == ["ok", "failed"]
        assert entries[0].detail == {"changed": ["password"]}
        for entry_row in entries:
            assert NEW_PASSWORD not in str(entry_row.detail)
            assert "not-the-password" not in str(entry_row.detail)
        await gateway.client.close()

        # The file still has the old password; the camera takes only the new one.
        gateway = await start_gateway([entry], by_header)
        await gateway.state("camera-1", CameraState.ONLINE)
        await gateway.client.close()

        # The password edited in the file since: the file's applies, the override is dropped.
        camera.profile.password = "edited-in-the-file"
        gateway = await start_gateway([{**entry, "password": "edited-in-the-file"}], by_header)
        await gateway.state("camera-1", CameraState.ONLINE)
        assert await gateway.app[DATABASE].standard.fetchall("SELECT * FROM camera_settings") == []
