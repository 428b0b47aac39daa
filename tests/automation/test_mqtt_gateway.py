"""The gateway against the simulator and a real Mosquitto, seen by a real MQTT subscriber."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import pytest

from doorstep.gateway.events import CameraEventReceived, CameraState
from doorstep.gateway.web.keys import BUS, DEVICES, MQTT
from doorstep.sdk import DeviceEvent, EventKind
from doorstep.simulator import Simulator

from ..integration.conftest import Gateway, camera_entry
from ..peers.mosquitto import Broker
from .conftest import StartGateway, mqtt_settings
from .ha_schema import problems
from .mqtt_peer import Subscriber, press_to_mqtt

Connect = Callable[..., Awaitable[Subscriber]]
StartSimulator = Callable[..., AbstractAsyncContextManager[Simulator]]

# stop_before_the_cameras: each test stops its gateway while the simulated cameras still run.
# A camera that vanishes just before shutdown can leave the ONVIF driver's HTTP session
# unclosed when its reconnect attempt is cancelled (a ResourceWarning: a driver matter, not
# MQTT's), and these tests are about what MQTT sees.


async def online(gateway: Gateway, *cameras: str) -> None:
    for camera in cameras:
        await gateway.state(camera, CameraState.ONLINE)
    await gateway.drain()  # the Initialized burst each subscription starts with


def expected_configs(prefix: str, node: str) -> set[str]:
    doorbell, camera = f"{node}_doorbell-1", f"{node}_camera-1"
    return {
        f"{prefix}/binary_sensor/{node}/status/config",
        f"{prefix}/event/{doorbell}/doorbell/config",
        f"{prefix}/binary_sensor/{doorbell}/ring/config",
        f"{prefix}/binary_sensor/{doorbell}/motion/config",
        f"{prefix}/binary_sensor/{doorbell}/person/config",
        f"{prefix}/binary_sensor/{doorbell}/connected/config",
        f"{prefix}/binary_sensor/{camera}/motion/config",
        f"{prefix}/binary_sensor/{camera}/person/config",
        f"{prefix}/binary_sensor/{camera}/connected/config",
    }


async def retained_configs(
    subscribers: Connect, broker: Broker, prefix: str, wanted: set[str]
) -> dict[str, dict[str, object]]:
    """What a client subscribing now gets as retained discovery configs (waits for `wanted`)."""
    fresh = await subscribers(broker, f"{prefix}/#")
    for topic in sorted(wanted):
        message = await fresh.wait_for(topic, lambda m: bool(m.payload))
        assert message.retain, f"{topic} must be retained"
    return {m.topic: m.json() for m in fresh.messages if m.payload and m.topic.endswith("/config")}


async def test_discovery_configs_are_retained_and_valid_for_home_assistant(
    broker: Broker,
    simulator_factory: StartSimulator,
    start_mqtt_gateway: StartGateway,
    topics: dict[str, str],
    subscribers: Connect,
) -> None:
    prefix, base = topics["discovery_prefix"], topics["base_topic"]
    async with simulator_factory(cameras=1, doorbells=1, person_detection=True) as simulator:
        doorbell, camera = simulator.devices["doorbell-1"], simulator.devices["camera-1"]
        gateway = await start_mqtt_gateway(
            [camera_entry(doorbell, name="Front door"), camera_entry(camera, name="Garden")],
            mqtt=mqtt_settings(broker, topics),
        )
        await online(gateway, "doorbell-1", "camera-1")
        configs = await retained_configs(
            subscribers, broker, prefix, expected_configs(prefix, base)
        )
        assert set(configs) == expected_configs(prefix, base), "no entity for kinds not reported"
        for topic, payload in configs.items():
            assert problems(topic, payload) == [], (topic, payload)
        unique_ids = [c["unique_id"] for c in configs.values()]
        assert len(set(unique_ids)) == len(unique_ids)
        bell = configs[f"{prefix}/event/{base}_doorbell-1/doorbell/config"]
        assert bell["device"] == {
            "identifiers": [f"{base}_doorbell-1"], "name": "Front door", "via_device": base,
            "manufacturer": "Doorstep Simulator", "model": "SimDoorbell D1",
            "sw_version": bell["device"]["sw_version"],
        }  # fmt: skip
        assert bell["availability"] == [
            {"topic": f"{base}/status", "payload_available": "online",
             "payload_not_available": "offline"},
            {"topic": f"{base}/doorbell-1/availability", "payload_available": "online",
             "payload_not_available": "offline"},
        ]  # fmt: skip
        states = await subscribers(broker, f"{base}/#")
        for topic, value in [
            (f"{base}/status", "online"),
            (f"{base}/doorbell-1/availability", "online"),
            (f"{base}/camera-1/availability", "online"),
            (f"{base}/doorbell-1/ring/state", "OFF"),
            (f"{base}/camera-1/motion/state", "OFF"),
        ]:
            retained = await states.wait_for(topic)
            assert (retained.text, retained.retain) == (value, True), topic
        await gateway.client.close()  # before the simulator: see stop_before_the_cameras


async def test_a_press_reaches_the_subscriber_as_the_doorbell_event(
    broker: Broker,
    simulator_factory: StartSimulator,
    start_mqtt_gateway: StartGateway,
    topics: dict[str, str],
    subscribers: Connect,
) -> None:
    base = topics["base_topic"]
    events = await subscribers(broker, f"{base}/+/doorbell/event", f"{base}/+/ring/state")
    async with simulator_factory(cameras=0, doorbells=1) as simulator:
        doorbell = simulator.devices["doorbell-1"]
        doorbell.profile.visitor_hold_s = 0.5
        gateway = await start_mqtt_gateway(
            [camera_entry(doorbell)], mqtt=mqtt_settings(broker, topics)
        )
        await online(gateway, "doorbell-1")
        await events.wait_for(f"{base}/doorbell-1/ring/state", lambda m: m.text == "OFF")
        await asyncio.sleep(0.5)  # a ring for the re-sent state would be right behind it
        assert not [m for m in events.messages if m.topic.endswith("/event")], (
            "the doorbell's Initialized state is no ring"
        )
        before = len(events.messages)
        seconds = await press_to_mqtt(events, f"{base}/doorbell-1/doorbell/event", doorbell.press)
        assert seconds > 0
        ring = await events.wait_for(f"{base}/doorbell-1/doorbell/event", after=before)
        assert not ring.retain, "Home Assistant discards replayed retained events"
        payload = ring.json()
        assert payload["event_type"] == "ring"
        assert (payload["camera_id"], payload["camera_name"]) == ("doorbell-1", "doorbell-1")
        assert payload["source"] == "000"
        on = await events.wait_for(
            f"{base}/doorbell-1/ring/state", lambda m: m.text == "ON", after=before
        )
        off = await events.wait_for(
            f"{base}/doorbell-1/ring/state", lambda m: m.text == "OFF", after=before
        )
        assert on.at < off.at
        await asyncio.sleep(0.5)
        rings = [m for m in events.messages[before:] if m.topic.endswith("/doorbell/event")]
        assert len(rings) == 1, "one press, one event (its release is no ring)"
        await gateway.client.close()  # before the simulator: see stop_before_the_cameras


async def test_motion_on_and_off_and_the_camera_going_away(
    broker: Broker,
    simulator_factory: StartSimulator,
    start_mqtt_gateway: StartGateway,
    topics: dict[str, str],
    subscribers: Connect,
) -> None:
    base = topics["base_topic"]
    watch = await subscribers(broker, f"{base}/camera-1/#")
    async with simulator_factory(cameras=1, doorbells=0) as simulator:
        camera = simulator.devices["camera-1"]
        gateway = await start_mqtt_gateway(
            [camera_entry(camera)],
            mqtt=mqtt_settings(broker, topics),
            supervisor={"backoff_initial_s": 0.5, "backoff_max_s": 1.0},
        )
        await online(gateway, "camera-1")
        state, availability = f"{base}/camera-1/motion/state", f"{base}/camera-1/availability"
        await watch.wait_for(availability, lambda m: m.text == "online")
        await watch.wait_for(state, lambda m: m.text == "OFF")
        mark = len(watch.messages)
        camera.motion(True)
        await watch.wait_for(state, lambda m: m.text == "ON", after=mark)
        mark = len(watch.messages)
        camera.motion(False)
        await watch.wait_for(state, lambda m: m.text == "OFF", after=mark)

        mark = len(watch.messages)
        await camera.stop()  # the camera goes away
        gone = await watch.wait_for(availability, lambda m: m.text == "offline", after=mark)
        fresh = await subscribers(broker, availability)
        assert (await fresh.wait_for(availability)).text == "offline", "retained"
        await camera.start()
        back = await watch.wait_for(availability, lambda m: m.text == "online", after=mark)
        assert gone.at < back.at
        await gateway.client.close()  # before the simulator: see stop_before_the_cameras


async def test_a_removed_camera_loses_its_entities(
    broker: Broker,
    start_mqtt_gateway: StartGateway,
    topics: dict[str, str],
    subscribers: Connect,
) -> None:
    """A disabled camera (no driver I/O: the removal path is the gateway's, not the camera's)
    that has reported motion; the event goes through the app's real bus."""
    prefix, base = topics["discovery_prefix"], topics["base_topic"]
    entry = {"id": "porch", "name": "Porch", "host": "127.0.0.1", "enabled": False}
    gateway = await start_mqtt_gateway([entry], mqtt=mqtt_settings(broker, topics))
    await gateway.state("porch", CameraState.DISABLED)
    motion = DeviceEvent(kind=EventKind.MOTION, active=True, time=datetime.now(UTC))
    gateway.app[BUS].publish(CameraEventReceived("porch", motion, datetime.now(UTC)))
    config = f"{prefix}/binary_sensor/{base}_porch/motion/config"
    watch = await subscribers(broker, f"{prefix}/#", f"{base}/porch/#")
    await watch.wait_for(config, lambda m: bool(m.payload))
    await watch.wait_for(f"{base}/porch/motion/state", lambda m: m.text == "ON")
    await watch.wait_for(f"{base}/porch/availability", lambda m: m.text == "offline")
    mark = len(watch.messages)
    # What the camera façade's remove does first (for an adopted camera; this one is declared).
    await gateway.app[DEVICES].remove("porch")
    for topic in (
        config,
        f"{prefix}/binary_sensor/{base}_porch/connected/config",
        f"{base}/porch/motion/state",
        f"{base}/porch/availability",
    ):
        await watch.wait_for(topic, lambda m: m.payload == b"", after=mark)
    fresh = await subscribers(broker, f"{prefix}/#", f"{base}/#")
    await fresh.wait_for(f"{base}/status", lambda m: m.text == "online")
    await asyncio.sleep(0.3)  # every retained message arrives right after subscribing
    left = [m.topic for m in fresh.messages if "porch" in m.topic and m.payload]
    assert left == [], "nothing retained is left of a removed camera"


async def test_a_clean_stop_says_offline_and_home_assistants_birth_gets_everything_again(
    broker: Broker,
    start_mqtt_gateway: StartGateway,
    topics: dict[str, str],
    subscribers: Connect,
) -> None:
    prefix, base = topics["discovery_prefix"], topics["base_topic"]
    gateway_config = f"{prefix}/binary_sensor/{base}/status/config"
    watch = await subscribers(broker, f"{base}/status", gateway_config)
    gateway = await start_mqtt_gateway([], mqtt=mqtt_settings(broker, topics))
    await watch.wait_for(f"{base}/status", lambda m: m.text == "online")
    await watch.wait_for(gateway_config)
    mark = len(watch.messages)
    await watch.publish(f"{prefix}/status", "online")  # Home Assistant (re)started
    again = await watch.wait_for(gateway_config, after=mark)
    assert again.json()["unique_id"] == f"{base}_status"

    mark = len(watch.messages)
    await gateway.client.close()  # stops the app: a clean disconnect sends no will
    await watch.wait_for(f"{base}/status", lambda m: m.text == "offline", after=mark)
    fresh = await subscribers(broker, f"{base}/status")
    retained = await fresh.wait_for(f"{base}/status")
    assert (retained.text, retained.retain) == ("offline", True)


async def test_reconnect_after_a_broker_restart_republishes_discovery(
    broker: Broker,
    simulator_factory: StartSimulator,
    start_mqtt_gateway: StartGateway,
    topics: dict[str, str],
    subscribers: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "doorstep.gateway.automation")
    prefix, base = topics["discovery_prefix"], topics["base_topic"]
    async with simulator_factory(cameras=0, doorbells=1) as simulator:
        doorbell = simulator.devices["doorbell-1"]
        doorbell.profile.visitor_hold_s = 0.2
        gateway = await start_mqtt_gateway(
            [camera_entry(doorbell)], mqtt=mqtt_settings(broker, topics)
        )
        await online(gateway, "doorbell-1")
        wanted = {f"{prefix}/event/{base}_doorbell-1/doorbell/config"}
        await retained_configs(subscribers, broker, prefix, wanted)
        publisher = gateway.app[MQTT]

        await asyncio.to_thread(broker.stop)  # retained messages die with it (no persistence)
        while publisher.connected:
            await asyncio.sleep(0.05)
        for _ in range(2):  # rings while the broker is away are dropped, logged once
            doorbell.press()
            await gateway.next_event()  # the press
            await gateway.next_event(timeout=5)  # its release
        await asyncio.to_thread(broker.start)
        watch = await subscribers(broker, *wanted)
        await watch.wait_for(next(iter(wanted)))  # republished after the reconnect, live
        configs = await retained_configs(subscribers, broker, prefix, wanted)
        assert problems(*next(iter(configs.items()))) == []
        status = await subscribers(broker, f"{base}/status", f"{base}/doorbell-1/ring/state")
        assert (await status.wait_for(f"{base}/status")).text == "online"
        assert (await status.wait_for(f"{base}/doorbell-1/ring/state")).text == "OFF"
        dropped = [r for r in caplog.records if "rings are not sent" in r.getMessage()]
        assert len(dropped) == 1
        assert publisher.status().dropped_events == 2
        await gateway.client.close()  # before the simulator: see stop_before_the_cameras


async def test_health_reports_the_mqtt_link_and_degrades_while_it_is_down(
    broker: Broker, start_mqtt_gateway: StartGateway, topics: dict[str, str]
) -> None:
    gateway = await start_mqtt_gateway([], mqtt=mqtt_settings(broker, topics))

    async def health() -> dict[str, object]:
        response = await gateway.client.get("/api/health")
        assert response.status == 200
        body: dict[str, object] = await response.json()
        return body

    async with asyncio.timeout(20):
        while not gateway.app[MQTT].connected:
            await asyncio.sleep(0.05)
    body = await health()
    assert body["mqtt"] == {"connected": True, "dropped_events": 0}
    assert body["status"] == "ok"
    assert "127.0.0.1" not in str(body["mqtt"])  # the report is public: no broker address
    await asyncio.to_thread(broker.stop)
    async with asyncio.timeout(20):
        while gateway.app[MQTT].connected:
            await asyncio.sleep(0.05)
    body = await health()
    assert body["mqtt"] == {"connected": False, "dropped_events": 0}
    assert body["status"] == "degraded"
