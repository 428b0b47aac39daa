"""A door station's call button is digital input 1 (Quirk DOORBELL_ON_INPUT): with the owner's
`doorbell_input` option, a press rings, from the simulated button to the web's event stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from doorstep.gateway.events import CameraState
from doorstep.sdk import EventKind
from doorstep.simulator.profile import Quirk

from ..gateway_client import SAME_ORIGIN
from ..simulator.conftest import StartSimulator
from ..web.conftest import set_up_owner
from .conftest import StartGateway, camera_entry


async def _rings(response: Any, found: asyncio.Future[dict[str, Any]]) -> None:
    """Read the SSE stream until the event the web UI rings for (webui/app.js) arrives."""
    name = ""
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == "camera-event":
            event = json.loads(line[6:])
            if event["kind"] == "doorbell" and event["active"] is True and not event["initial"]:
                found.set_result(event)
                return


async def test_a_press_on_the_doorbell_input_rings(
    simulator_factory: StartSimulator, start_gateway: StartGateway
) -> None:
    async with simulator_factory(
        cameras=0, doorbells=1, quirks=frozenset({Quirk.DOORBELL_ON_INPUT})
    ) as simulator:
        station = simulator.devices["doorbell-1"]
        entry = camera_entry(station, options={"doorbell_input": "1"})
        gateway = await start_gateway([entry])
        await set_up_owner(gateway.client)
        await gateway.state("doorbell-1", CameraState.ONLINE)
        await gateway.drain()
        response = await gateway.client.get("/api/events/stream", headers=SAME_ORIGIN)
        assert response.status == 200
        found: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        reader = asyncio.create_task(_rings(response, found))
        try:
            await asyncio.sleep(0.2)  # the stream is subscribed to the bus
            assert station.press()
            bus = await gateway.next_event(timeout=10)
            assert (bus.event.kind, bus.event.active, bus.event.source) == (
                EventKind.DOORBELL, True, "1",
            )  # fmt: skip
            ring = await asyncio.wait_for(found, 10)
        finally:
            reader.cancel()
            response.close()
        assert ring["camera_id"] == "doorbell-1"
