"""A press on the simulator's doorbell, through the real ONVIF driver and the whole gateway,
reaches a receiver on loopback as one signed request (the ring's end is not asked for)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from doorstep.gateway.app import build_app
from doorstep.gateway.automation.webhook_rule import RuleSettings
from doorstep.gateway.automation.webhook_template import check_template
from doorstep.gateway.events import CameraEventReceived
from doorstep.gateway.web.keys import BUS, OUTGOING_WEBHOOKS
from doorstep.sdk import EventKind
from doorstep.simulator import Simulator

from ..gateway_client import doorbell_config, until_online
from ..simulator.conftest import media, simulator, simulator_factory  # noqa: F401  # fixtures
from .outgoing_webhooks_receiver import receiving

NTFY_STYLE = """{"topic": "doorstep", "title": "${camera_name}", "message": "${text}",
 "tags": ["bell"], "priority": 4, "gateway": "${gateway}"}"""


async def test_a_simulator_press_delivers_one_signed_request(
    aiohttp_server: Any,
    simulator: Simulator,  # noqa: F811
    tmp_path: Path,
) -> None:
    doorbell = simulator.devices["doorbell-1"]
    doorbell.profile.visitor_hold_s = 0.3
    app = await asyncio.to_thread(build_app, doorbell_config(simulator, tmp_path / "data"))
    server = await aiohttp_server(app)
    try:
        await until_online(app, "front")
        async with receiving() as receiver:
            hooks = app[OUTGOING_WEBHOOKS]
            settings = RuleSettings(
                "ntfy", True, receiver.url("/"), frozenset({EventKind.DOORBELL}),
                frozenset({"front"}), False, check_template(NTFY_STYLE),
            )  # fmt: skip
            state, secret = await hooks.create(settings)
            async with app[BUS].stream("test", (CameraEventReceived,)) as tap:
                doorbell.press()
                (request,) = await receiver.wait_for("/", 1)
                # The ring ends 0.3 s later; once that has passed the rule, still one request.
                while True:
                    message = await asyncio.wait_for(tap.get(), 15)
                    if message.event.kind is EventKind.DOORBELL and message.event.active is False:
                        break
            # Published to every subscriber at once: once the rules' subscriber has taken it off
            # its queue, it has been judged (a non-matching event is dropped without waiting).
            async with asyncio.timeout(15):
                while next(s for s in app[BUS].stats() if s.name == "outgoing_webhooks").queued:
                    await asyncio.sleep(0.01)
            assert len(receiver.requests) == 1
            assert request.signed_by(secret)
            assert request.event == "doorbell"
            assert request.json == {
                "topic": "doorstep", "title": "Front",
                "message": "Someone rang the doorbell at Front", "tags": ["bell"], "priority": 4,
                "gateway": hooks.gateway,
            }  # fmt: skip
            assert hooks.gateway.startswith("Doorstep ")
            last = hooks.get(state.id).last
            assert last is not None
            assert last.ok
    finally:
        await server.close()
