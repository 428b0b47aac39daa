"""The MQTT side without a broker: config, discovery payloads, the state model, the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from doorstep.gateway.automation.ha_discovery import (
    ENTITY_KINDS,
    CameraDevice,
    Topics,
    camera_configs,
    entity_slug,
    gateway_config,
    topic_id,
)
from doorstep.gateway.automation.mqtt_outbox import Backoff, Outbox
from doorstep.gateway.automation.mqtt_state import MqttState, Outgoing
from doorstep.gateway.config.automation import MqttConfig
from doorstep.gateway.config.models import Config, parse_config
from doorstep.gateway.events import CameraEventReceived, CameraState, CameraStateChanged
from doorstep.sdk import DeviceEvent, DeviceInfo, EventKind

from .ha_schema import VALID_ENTITY_ID, problems

TOPICS = Topics("homeassistant", "doorstep")
INFO = DeviceInfo(manufacturer="Acme", model="Bell 2", firmware="1.2.3")


def event(kind: EventKind, active: bool | None, initial: bool = False, source: str = "000") -> Any:
    return CameraEventReceived(
        "porch",
        DeviceEvent(kind=kind, active=active, time=datetime.now(UTC), source=source,
                    initial=initial, attributes={"data.State": "true"}),
        datetime.now(UTC),
    )  # fmt: skip


class Offs:
    """The auto-off requests a state model made (the publisher turns them into timers)."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, str, str | None]] = []

    def __call__(self, delay: float, camera_id: str, key: str, source: str | None) -> None:
        self.requests.append((delay, camera_id, key, source))


def by_topic(messages: list[Outgoing]) -> dict[str, bytes]:
    return {m.topic: m.payload for m in messages}


def test_mqtt_is_off_unless_configured() -> None:
    assert Config().mqtt is None
    assert parse_config("mqtt:\n").mqtt is None
    config = parse_config("mqtt:\n  host: broker.home.arpa\n")
    assert config.mqtt is not None
    assert (config.mqtt.effective_port, config.mqtt.discovery_prefix) == (1883, "homeassistant")
    assert config.mqtt.base_topic == "doorstep"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"host": "b", "password": "x"}, "username"),
        ({"host": "b", "base_topic": "door/+/x"}, "base_topic"),
        ({"host": "b", "base_topic": "a//b"}, "base_topic"),
        ({"host": "b", "discovery_prefix": "$SYS"}, "discovery_prefix"),
        ({"host": "b", "client_id": "has space"}, "client_id"),
        ({"host": "b", "tls": {"enabled": True, "cert_file": "/c.pem"}}, "key_file"),
        ({"host": "$(id)"}, "host"),
        ({"host": "b", "keepalive_s": 1}, "keepalive_s"),
    ],
)
def test_bad_mqtt_settings_are_refused_with_the_field(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as refused:
        MqttConfig.model_validate(fields)
    assert where in str(refused.value)


def test_the_password_is_a_secret() -> None:
    settings = MqttConfig.model_validate({"host": "b", "username": "u", "password": "hunter22"})
    assert "hunter22" not in repr(settings)
    assert settings.tls.enabled is False
    assert MqttConfig.model_validate({"host": "b", "tls": {"enabled": True}}).effective_port == 8883


def test_ids_are_sanitised_for_topics_and_entity_ids() -> None:
    assert topic_id("front door/1.a+#") == "front_door_1_a__"
    assert entity_slug("Doorstep-Garage__cam-1_") == "doorstep_garage_cam_1"
    assert VALID_ENTITY_ID.match("binary_sensor." + entity_slug("__x--y__"))


def test_every_discovery_config_passes_home_assistants_required_keys() -> None:
    camera = CameraDevice("doorbell-1", "Front door", INFO)
    configs = [gateway_config(TOPICS, "1.0"), *camera_configs(TOPICS, camera, ENTITY_KINDS, "1.0")]
    assert {topic.split("/")[1] for topic, _ in configs} == {"event", "binary_sensor"}
    for topic, payload in configs:
        assert problems(topic, payload) == [], (topic, payload)
    unique_ids = [payload["unique_id"] for _, payload in configs]
    assert len(unique_ids) == len(set(unique_ids)) == 7  # gateway, connected, 5 event-fed
    event_config = dict(configs)["homeassistant/event/doorstep_doorbell-1/doorbell/config"]
    assert event_config["event_types"] == ["ring"]
    assert event_config["device_class"] == "doorbell"
    assert event_config["default_entity_id"] == "event.doorstep_doorbell_1_doorbell"
    assert event_config["availability_mode"] == "all"
    assert [a["topic"] for a in event_config["availability"]] == [
        "doorstep/status", "doorstep/doorbell-1/availability",
    ]  # fmt: skip
    assert event_config["device"] == {
        "identifiers": ["doorstep_doorbell-1"], "name": "Front door", "via_device": "doorstep",
        "manufacturer": "Acme", "model": "Bell 2", "sw_version": "1.2.3",
    }  # fmt: skip


def test_the_schema_table_catches_what_home_assistant_would_refuse() -> None:
    _, good = camera_configs(TOPICS, CameraDevice("c", "C"), frozenset({EventKind.MOTION}), "1")[1]
    topic = "homeassistant/binary_sensor/doorstep_c/motion/config"
    assert problems(topic, good) == []
    assert problems(topic, {k: v for k, v in good.items() if k != "state_topic"}) == [
        "missing required 'state_topic'"
    ]
    assert problems("homeassistant/binary_sensor/door.c/motion/config", good)
    assert problems(topic, {**good, "device_class": "person"})
    assert problems(topic, {**good, "object_id": "x"})
    assert problems(topic, {**good, "device": {"name": "no identifiers"}})


def test_a_camera_gets_the_entities_of_the_kinds_it_reports() -> None:
    offs = Offs()
    state = MqttState(TOPICS, "1.0", offs)
    first = state.on_state(CameraStateChanged("porch", CameraState.CONNECTING), "Porch")
    assert by_topic(first) == {
        "homeassistant/binary_sensor/doorstep_porch/connected/config": first[0].payload,
        "doorstep/porch/availability": b"offline",
    }
    online = state.on_state(CameraStateChanged("porch", CameraState.ONLINE, info=INFO), "Porch")
    topics = by_topic(online)
    assert topics["doorstep/porch/availability"] == b"online"
    assert (
        json.loads(topics["homeassistant/binary_sensor/doorstep_porch/connected/config"])["device"][
            "model"
        ]
        == "Bell 2"
    )  # the identity it reported reaches the device registry
    initial = by_topic(state.on_event(event(EventKind.DOORBELL, False, initial=True), "Porch"))
    assert "homeassistant/event/doorstep_porch/doorbell/config" in initial
    assert initial["doorstep/porch/ring/state"] == b"OFF"
    assert not any(t.endswith("/event") for t in initial), "a re-sent state is no ring"
    assert state.on_event(event(EventKind.AUDIO, True), "Porch") == []


def test_a_press_rings_once_and_the_ring_sensor_follows_it() -> None:
    offs = Offs()
    state = MqttState(TOPICS, "1.0", offs)
    state.on_state(CameraStateChanged("porch", CameraState.ONLINE), "Porch")
    pressed = state.on_event(event(EventKind.DOORBELL, True), "Porch")
    ring = next(m for m in pressed if m.topic == "doorstep/porch/doorbell/event")
    assert (ring.retain, ring.momentary) == (False, True)
    payload = json.loads(ring.payload)
    assert payload["event_type"] == "ring"
    assert (payload["camera_id"], payload["camera_name"], payload["source"]) == (
        "porch", "Porch", "000",
    )  # fmt: skip
    assert by_topic(pressed)["doorstep/porch/ring/state"] == b"ON"
    assert offs.requests == [(10, "porch", "ring", "000")]  # the safety net if no release comes
    released = by_topic(state.on_event(event(EventKind.DOORBELL, False), "Porch"))
    assert released == {"doorstep/porch/ring/state": b"OFF"}
    assert state.release("porch", "ring", "000") == []  # released already: the timer is moot


def test_sensors_stay_on_while_any_source_is_on_and_one_offs_turn_off() -> None:
    offs = Offs()
    state = MqttState(TOPICS, "1.0", offs)
    state.on_state(CameraStateChanged("porch", CameraState.ONLINE), "Porch")
    assert (
        by_topic(state.on_event(event(EventKind.MOTION, True, source="a"), "Porch"))[
            "doorstep/porch/motion/state"
        ]
        == b"ON"
    )
    assert state.on_event(event(EventKind.MOTION, True, source="b"), "Porch") == []
    assert state.on_event(event(EventKind.MOTION, False, source="a"), "Porch") == []
    assert by_topic(state.on_event(event(EventKind.MOTION, False, source="b"), "Porch")) == {
        "doorstep/porch/motion/state": b"OFF"
    }
    assert (
        by_topic(state.on_event(event(EventKind.PERSON, None), "Porch"))[
            "doorstep/porch/person/state"
        ]
        == b"ON"
    )
    assert offs.requests[-1] == (5.0, "porch", "person", "000")
    assert by_topic(state.release("porch", "person", "000")) == {
        "doorstep/porch/person/state": b"OFF"
    }


def test_a_camera_going_offline_leaves_no_sensor_on() -> None:
    state = MqttState(TOPICS, "1.0", Offs())
    state.on_state(CameraStateChanged("porch", CameraState.ONLINE), "Porch")
    state.on_event(event(EventKind.MOTION, True), "Porch")
    down = by_topic(state.on_state(CameraStateChanged("porch", CameraState.UNAVAILABLE), "Porch"))
    assert down == {
        "doorstep/porch/availability": b"offline",
        "doorstep/porch/motion/state": b"OFF",
    }


def test_a_removed_camera_clears_its_retained_topics_now_and_after_each_reconnect() -> None:
    state = MqttState(TOPICS, "1.0", Offs())
    state.on_state(CameraStateChanged("porch", CameraState.ONLINE), "Porch")
    state.on_event(event(EventKind.MOTION, True), "Porch")
    # A camera still supervised that stops (a restart with new settings) is not removed.
    assert state.on_state(CameraStateChanged("porch", CameraState.STOPPED), "Porch")
    assert "porch" in state.cameras
    cleared = state.on_state(CameraStateChanged("porch", CameraState.STOPPED), None)
    assert cleared
    assert all(m.payload == b"" and m.retain for m in cleared)
    topics = {m.topic for m in cleared}
    assert "homeassistant/binary_sensor/doorstep_porch/motion/config" in topics
    assert "homeassistant/event/doorstep_porch/doorbell/config" in topics
    assert "doorstep/porch/availability" in topics
    again = {m.topic for m in state.everything() if m.payload == b""}
    assert again == topics
    assert "porch" not in state.cameras
    state.on_state(CameraStateChanged("porch", CameraState.CONNECTING), "Porch")  # adopted again
    assert not any(m.payload == b"" for m in state.everything())


def test_the_outbox_is_bounded_in_bytes_and_drops_its_oldest() -> None:
    outbox = Outbox(max_bytes=1000, max_messages=100)
    small = [Outgoing(f"t/{i}", b"x" * 90, retain=True) for i in range(10)]
    assert outbox.put_all(small[:9])
    assert not outbox.overflowed
    assert not outbox.put(Outgoing("t/big", b"y" * 300, retain=False))
    assert outbox.bytes <= 1000
    assert outbox.overflowed
    assert outbox.dropped >= 1
    assert not outbox.put(Outgoing("t/huge", b"z" * 2000, retain=False))  # never fits: dropped
    assert outbox.bytes <= 1000
    counted = Outbox(max_bytes=10**6, max_messages=3)
    counted.put_all(small[:5])
    assert len(counted) == 3
    assert counted.dropped == 2


def test_backoff_grows_with_jitter_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(1.0, 8.0)
    delays = [backoff.next() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next() <= 1.0
