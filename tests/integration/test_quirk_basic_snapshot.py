"""A snapshot URL that challenges with `WWW-Authenticate: Basic` only (Quirk BASIC_SNAPSHOT):
the snapshot works, Basic goes to the camera's own host only, and the camera's diagnostics say
that the password travels with Basic authentication, and so does the camera's info."""

from __future__ import annotations

from doorstep.gateway.events import CameraState
from doorstep.simulator.profile import Quirk

from ..gateway_client import SAME_ORIGIN, call
from ..simulator.conftest import StartSimulator
from ..web.conftest import set_up_owner
from .conftest import StartGateway, camera_entry

BASIC = "snapshot uses Basic authentication (sent to the camera's own address only)"


async def test_a_basic_only_snapshot_url_answers_a_jpeg(
    simulator_factory: StartSimulator, start_gateway: StartGateway
) -> None:
    async with simulator_factory(
        cameras=1, doorbells=0, quirks=frozenset({Quirk.BASIC_SNAPSHOT})
    ) as simulator:
        camera = simulator.devices["camera-1"]
        gateway = await start_gateway([camera_entry(camera)])
        await set_up_owner(gateway.client)
        await gateway.state("camera-1", CameraState.ONLINE)
        status, view = await call(gateway.client, "GET", "/api/cameras/camera-1")
        assert (status, view["notes"]) == (200, [])
        response = await gateway.client.get("/api/cameras/camera-1/snapshot", headers=SAME_ORIGIN)
        body = await response.read()
        assert response.status == 200, body[:200]
        assert body == camera.media.jpeg(camera.profile.width, camera.profile.height)
        status, report = await call(gateway.client, "GET", "/api/cameras/camera-1/diagnostics")
        assert status == 200
        notes = report["driver_diagnostics"]["notes"]
        assert BASIC in notes
        # The owner sees it in the camera's info too (GET /api/cameras/{id}).
        status, view = await call(gateway.client, "GET", "/api/cameras/camera-1")
        assert (status, view["notes"]) == (200, [BASIC])
