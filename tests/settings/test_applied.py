"""A saved setting takes effect where it says it does: discovery's next search, the ring going
on, new calls' STUN/TURN servers and the event history at once; the camera callback listener
and the host names at the next start (a restart is pending until then)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiortc import RTCIceServer

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.events import CameraEventReceived, RingEnded, RingEndReason, RingStarted
from doorstep.gateway.keys import tls
from doorstep.gateway.storage import EventRecord
from doorstep.gateway.web.keys import BUS, CONFIG, LIVE, RINGS, SETTINGS, STORAGE
from doorstep.sdk import DeviceEvent, EventKind

from ..gateway_client import call
from ..ringing.clock import FakeClock
from ..simulator.conftest import StartSimulator
from .conftest import FRONT, StartGateway


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait (generously: the machine is shared) for `condition` to hold."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_next_search_probes_the_target_set_from_the_ui(
    start_gateway: StartGateway,
    simulator_factory: StartSimulator,
) -> None:
    async with simulator_factory(cameras=1, doorbells=0) as simulator:
        gateway = await start_gateway(discovery={"listen_s": 0.5})
        owner, _ = await gateway.owner()
        status, found = await call(owner, "GET", "/api/discovery")
        assert (status, found["devices"]) == (200, [])  # config.yaml sets nothing to probe
        target = f"127.0.0.1:{simulator.discovery_port}"
        status, view = await call(owner, "PUT", "/api/settings/discovery", {"targets": [target]})
        assert (status, view["overridden"], view["applies"]) == (200, ["targets"], "now")
        status, found = await call(owner, "GET", "/api/discovery")
        assert status == 200
        assert [(d["name"], d["port"]) for d in found["devices"]] == [
            ("camera-1", simulator.devices["camera-1"].profile.onvif_port)
        ]
        await gateway.server.close()  # before the simulator it probed


def _press(bus: EventBus, camera_id: str = "front") -> None:
    """The doorbell's button, as its driver reports it."""
    now = datetime.now(UTC)
    event = DeviceEvent(kind=EventKind.DOORBELL, active=True, time=now)
    bus.publish(CameraEventReceived(camera_id, event, now))


async def test_a_new_ring_time_applies_to_the_ring_going_on(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(cameras=[FRONT], rings={"ring_s": 60})
    owner, _ = await gateway.owner()
    rings, clock = gateway.app[RINGS], FakeClock()
    rings.clock = clock.ring_clock()
    heard = gateway.app[BUS].stream("test", (RingStarted, RingEnded))
    _press(gateway.app[BUS])
    started = await asyncio.wait_for(heard.get(), 10)
    assert isinstance(started, RingStarted)
    await clock.advance(5)
    status, view = await call(owner, "PUT", "/api/settings/rings", {"ring_s": 10})
    assert (status, view["value"], view["applies"]) == (200, {"ring_s": 10.0}, "now")
    await clock.advance(4)  # 9 s after the press: still ringing
    assert rings.current("front") is not None
    await clock.advance(1)  # 10 s: the new ring time is up (the old one had 50 s to go)
    ended = await asyncio.wait_for(heard.get(), 10)
    assert isinstance(ended, RingEnded)
    assert (ended.ring_id, ended.reason) == (started.ring_id, RingEndReason.TIMEOUT)
    assert rings.current("front") is None
    await heard.close()


async def test_new_calls_get_the_stun_and_turn_servers_set_from_the_ui(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    assert gateway.app[LIVE].ice_servers == []
    turn = {"urls": ["turn:127.0.0.1:3478"], "username": "door", "credential": "turn-pass-1"}
    servers = {"ice_servers": ["stun:127.0.0.1:3478", turn]}
    status, view = await call(owner, "PUT", "/api/settings/live", servers)
    assert (status, view["overridden"]) == (200, ["ice_servers"])
    assert gateway.app[LIVE].ice_servers == [
        RTCIceServer(urls=["stun:127.0.0.1:3478"]),
        RTCIceServer(urls=["turn:127.0.0.1:3478"], username="door", credential="turn-pass-1"),
    ]
    _, ice = await call(owner, "GET", "/api/live/ice")
    assert [s["urls"] for s in ice["ice_servers"]] == [
        ["stun:127.0.0.1:3478"], ["turn:127.0.0.1:3478"],
    ]  # fmt: skip
    status, view = await call(owner, "DELETE", "/api/settings/live/ice_servers", {})
    assert (status, view["value"], gateway.app[LIVE].ice_servers) == (
        200, {"ice_servers": []}, [],
    )  # fmt: skip


async def test_a_shorter_event_history_deletes_older_events_at_once(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway(cameras=[FRONT], retention={"event_days": 30})
    owner, _ = await gateway.owner()
    events = gateway.app[STORAGE].events
    now = datetime.now(UTC)
    for days in (40, 20, 10, 1):
        at = now - timedelta(days=days)
        await events.add(EventRecord("front", "motion", True, at, at, topic=f"{days} days"))

    async def kept() -> list[str]:
        return sorted(e.topic for e in await events.recent(["front"], 100, kinds={"motion"}))

    assert await kept() == ["1 days", "10 days", "20 days", "40 days"]  # the hourly prune is later
    status, view = await call(owner, "PUT", "/api/settings/retention", {"event_days": 15})
    assert (status, view["value"]["event_days"], view["applies"]) == (200, 15, "now")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (left := await kept()) != ["1 days", "10 days"]:
        assert loop.time() < deadline, left
        await asyncio.sleep(0.05)


async def test_callbacks_https_and_host_names_apply_at_the_next_start(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, "doorstep.gateway.devices.webhook_listener")
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    name = {"Host": "doorstep.home.arpa"}
    async with owner.get("/api/health", headers=name) as response:
        assert response.status == 421
    status, view = await call(owner, "PUT", "/api/settings/webhooks", {"enabled": True})
    assert (status, view["applies"], view["restart_pending"]) == (200, "restart", True)
    cert, key = await asyncio.to_thread(tls.make_self_signed, tmp_path / "pem", "127.0.0.1")
    https = {"tls": {"cert": str(cert), "key": str(key)}, "hostnames": ["doorstep.home.arpa"]}
    status, view = await call(owner, "PUT", "/api/settings/server", https)
    assert (status, view["restart_pending"]) == (200, True)
    assert gateway.app[CONFIG].server.tls.enabled is False  # running as it started
    _, health = await call(owner, "GET", "/api/health")
    assert health["restart_pending"] is True
    async with owner.get("/api/health", headers=name) as response:
        assert response.status == 421  # not before the restart
    assert "receiving device callbacks" not in caplog.text
    await gateway.server.close()

    gateway = await start_gateway()  # the same config.yaml, restarted
    assert "receiving device callbacks on http://127.0.0.1:" in caplog.text
    settings = gateway.app[SETTINGS]
    assert settings.restart_pending() == []
    assert settings.view("webhooks").overridden == ["enabled"]
    assert settings.view("server").overridden == ["hostnames", "tls"]
    assert gateway.app[CONFIG].server.tls.cert == cert  # what `serve` makes its TLS context of
    visitor = await gateway.browser()
    async with visitor.get("/api/health", headers=name) as response:
        assert response.status == 200
        assert (await response.json())["restart_pending"] is False
