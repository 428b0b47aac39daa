"""Every subscription slot still held by a crashed client (Quirk STALE_PULLPOINTS): the camera
is not reported online before its events are subscribed, the refusal is logged once and backed
off, and the camera comes online with its events once the old subscriptions expire."""

from __future__ import annotations

import asyncio
import logging

import pytest

from doorstep.gateway.events import CameraState, CameraStateChanged
from doorstep.simulator.profile import Quirk

from ..simulator.conftest import StartSimulator
from .conftest import StartGateway, camera_entry

WINDOW_S = 8.0


async def test_full_subscription_slots_keep_the_camera_off_line_quietly(
    simulator_factory: StartSimulator,
    start_gateway: StartGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with simulator_factory(
        cameras=1, doorbells=0, quirks=frozenset({Quirk.STALE_PULLPOINTS})
    ) as simulator:
        camera = simulator.devices["camera-1"]
        assert camera.subscriptions.count == camera.profile.max_pullpoints  # all taken
        states: list[CameraStateChanged] = []
        with caplog.at_level(logging.WARNING):
            gateway = await start_gateway([camera_entry(camera, options={"events": "pullpoint"})])
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WINDOW_S
            while loop.time() < deadline:
                try:
                    message = await asyncio.wait_for(gateway.tap.get(), deadline - loop.time())
                except TimeoutError:
                    break
                if isinstance(message, CameraStateChanged):
                    states.append(message)
        seen = [s.state for s in states]
        assert CameraState.ONLINE not in seen, seen  # never online without its events
        reasons = {s.reason for s in states if s.state is CameraState.UNAVAILABLE}
        assert reasons, seen
        assert all(r and "event" in r and "pull points" in r for r in reasons), reasons
        warnings = [
            r.getMessage()[:200]
            for r in caplog.records
            if r.levelno >= logging.WARNING and r.name.startswith("doorstep")
        ]
        assert len(warnings) == 1, warnings  # one line for the outage, not one per attempt
        attempts = camera.requests["CreatePullPointSubscription"]
        assert 1 <= attempts <= 6, attempts  # backed off (1, 2, 4 s, jittered), not hammered

        for held in camera.stale_pullpoints:  # the crashed client's subscriptions expire
            held.termination = camera.now()
        await gateway.state("camera-1", CameraState.ONLINE, timeout=30)
        await gateway.drain()
        camera.motion(True)
        event = await gateway.next_event(timeout=10)
        assert (event.event.active, event.event.initial) == (True, False)
