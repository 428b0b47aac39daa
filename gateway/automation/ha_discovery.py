"""Home Assistant MQTT discovery: the topics Doorstep publishes and each entity's config payload.

Per-entity discovery (`<prefix>/<component>/<node_id>/<object_id>/config`, retained), which every
Home Assistant version with MQTT discovery reads; `default_entity_id` rather than the
`object_id` key Home Assistant deprecated in 2025.10. Per camera (node `<gateway>_<camera>`):

- `event` doorbell (device class doorbell, event type `ring`) and a `binary_sensor` ring, for a
  camera that reports doorbell events;
- `binary_sensor`s motion, person and vehicle, for the kinds the camera reports;
- a diagnostic `binary_sensor` "Connected" that reads the camera's availability topic.

Every camera entity is available only while both the gateway (`<base>/status`, the MQTT will)
and the camera (`<base>/<camera>/availability`) say `online` (`availability_mode: all`).

Recording state is not published: recording does not exist yet. When the recorder puts its
state on the bus, add an `EntitySpec("recording", "binary_sensor", "Recording", "running", …)`
to `ENTITIES` with the event kind that feeds it (see `MqttState.on_event`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from doorstep.sdk import DeviceInfo, EventKind

ONLINE = "online"
OFFLINE = "offline"
ON = "ON"
OFF = "OFF"

RING_OFF_S = 10
"""The ring sensor turns off this long after a press whose release never came (also sent as
`off_delay`, so Home Assistant turns it off itself if our OFF is lost)."""

_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def topic_id(value: str) -> str:
    """`value` as a discovery node/object id: only [a-zA-Z0-9_-] (HA's discovery topic regex)."""
    return _UNSAFE.sub("_", value) or "_"


def entity_slug(value: str) -> str:
    """`value` as the object part of an entity id: lower case, digits, single underscores."""
    return _NOT_SLUG.sub("_", value.lower()).strip("_") or "doorstep"


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """One kind of Home Assistant entity a camera gets, and the event kind that feeds it."""

    key: str
    component: str
    name: str
    device_class: str | None
    kind: EventKind
    extra: Mapping[str, Any] | None = None


# Ring: `occupancy` ("Detected"/"Clear"), because a press means someone is at the door; `sound`
# says a noise was heard, which is not what the button senses (the event entity carries the
# doorbell meaning). Person and vehicle have no device class of their own: occupancy too.
DOORBELL_EVENT = EntitySpec(
    "doorbell", "event", "Doorbell", "doorbell", EventKind.DOORBELL, {"event_types": ["ring"]}
)
ENTITIES: tuple[EntitySpec, ...] = (
    DOORBELL_EVENT,
    EntitySpec(
        "ring", "binary_sensor", "Ring", "occupancy", EventKind.DOORBELL,
        {"off_delay": RING_OFF_S, "icon": "mdi:doorbell"},
    ),
    EntitySpec("motion", "binary_sensor", "Motion", "motion", EventKind.MOTION),
    EntitySpec("person", "binary_sensor", "Person", "occupancy", EventKind.PERSON),
    EntitySpec("vehicle", "binary_sensor", "Vehicle", "occupancy", EventKind.VEHICLE),
)  # fmt: skip
"""Every event-fed entity a camera can have; it gets those whose kind it reports."""
ENTITY_KINDS = frozenset(spec.kind for spec in ENTITIES)
CONNECTED_KEY = "connected"
"""The per-camera diagnostic entity (always there) showing the camera's availability."""


@dataclass(frozen=True, slots=True)
class Topics:
    """Where everything goes: discovery under the prefix, states and events under the base."""

    discovery_prefix: str
    base: str

    @property
    def node(self) -> str:
        """The gateway's id in Home Assistant: prefix of every node, unique_id and device id."""
        return topic_id(self.base)

    @property
    def status(self) -> str:
        """The gateway's availability (`online`, or the will's `offline`)."""
        return f"{self.base}/status"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/will topic: `online` when it (re)starts."""
        return f"{self.discovery_prefix}/status"

    def camera_node(self, camera_id: str) -> str:
        """The discovery node id (and device identifier) of one camera."""
        return f"{self.node}_{topic_id(camera_id)}"

    def availability(self, camera_id: str) -> str:
        """The camera's own availability topic."""
        return f"{self.base}/{topic_id(camera_id)}/availability"

    def state(self, camera_id: str, key: str) -> str:
        """A binary sensor's state topic (retained ON/OFF)."""
        return f"{self.base}/{topic_id(camera_id)}/{key}/state"

    def event(self, camera_id: str, key: str) -> str:
        """An event entity's topic (JSON, never retained)."""
        return f"{self.base}/{topic_id(camera_id)}/{key}/event"

    def config(self, component: str, node: str, key: str) -> str:
        """A discovery config topic."""
        return f"{self.discovery_prefix}/{component}/{node}/{key}/config"

    def camera_config(self, camera_id: str, spec: EntitySpec) -> str:
        """The discovery config topic of one camera entity."""
        return self.config(spec.component, self.camera_node(camera_id), spec.key)

    def camera_topics(self, camera_id: str) -> list[str]:
        """Every retained topic a camera may own (to clear when it is removed)."""
        configs = [self.camera_config(camera_id, spec) for spec in ENTITIES]
        configs.append(self.config("binary_sensor", self.camera_node(camera_id), CONNECTED_KEY))
        states = [self.state(camera_id, s.key) for s in ENTITIES if s.component != "event"]
        return [*configs, *states, self.availability(camera_id)]


@dataclass(frozen=True, slots=True)
class CameraDevice:
    """What Home Assistant's device registry shows for one camera."""

    camera_id: str
    name: str
    info: DeviceInfo | None = None


def _origin(version: str) -> dict[str, Any]:
    return {"name": "Doorstep", "sw_version": version}


def gateway_device(topics: Topics, version: str) -> dict[str, Any]:
    """The gateway's device block; cameras name it as their `via_device`."""
    return {
        "identifiers": [topics.node],
        "name": "Doorstep",
        "manufacturer": "Doorstep",
        "model": "Camera gateway",
        "sw_version": version,
    }


def camera_device(topics: Topics, camera: CameraDevice) -> dict[str, Any]:
    """A camera's device block, with the identity the camera reported when it is known."""
    device: dict[str, Any] = {
        "identifiers": [topics.camera_node(camera.camera_id)],
        "name": camera.name,
        "via_device": topics.node,
    }
    info = camera.info
    if info is not None:
        device["manufacturer"] = info.manufacturer
        device["model"] = info.model
        if info.firmware:
            device["sw_version"] = info.firmware
    return device


def gateway_config(topics: Topics, version: str) -> tuple[str, dict[str, Any]]:
    """The gateway's own entity: a connectivity sensor on the status topic (the will)."""
    unique_id = f"{topics.node}_status"
    return topics.config("binary_sensor", topics.node, "status"), {
        "name": "Connected",
        "unique_id": unique_id,
        "default_entity_id": f"binary_sensor.{entity_slug(unique_id)}",
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "state_topic": topics.status,
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "device": gateway_device(topics, version),
        "origin": _origin(version),
    }


def _availability(topics: Topics, camera_id: str) -> dict[str, Any]:
    return {
        "availability": [
            {"topic": topics.status, "payload_available": ONLINE,
             "payload_not_available": OFFLINE},
            {"topic": topics.availability(camera_id), "payload_available": ONLINE,
             "payload_not_available": OFFLINE},
        ],
        "availability_mode": "all",
    }  # fmt: skip


def entity_config(
    topics: Topics, camera: CameraDevice, spec: EntitySpec, version: str
) -> tuple[str, dict[str, Any]]:
    """The discovery topic and payload of one event-fed camera entity."""
    camera_id = camera.camera_id
    unique_id = f"{topics.camera_node(camera_id)}_{spec.key}"
    payload: dict[str, Any] = {
        "name": spec.name,
        "unique_id": unique_id,
        "default_entity_id": f"{spec.component}.{entity_slug(unique_id)}",
        "device_class": spec.device_class,
        **_availability(topics, camera_id),
        "qos": 1,
        "device": camera_device(topics, camera),
        "origin": _origin(version),
    }
    if spec.component == "event":
        payload["state_topic"] = topics.event(camera_id, spec.key)
    else:
        payload |= {"state_topic": topics.state(camera_id, spec.key), "payload_on": ON,
                    "payload_off": OFF}  # fmt: skip
    payload.update(spec.extra or {})
    return topics.camera_config(camera_id, spec), payload


def connected_config(
    topics: Topics, camera: CameraDevice, version: str
) -> tuple[str, dict[str, Any]]:
    """A camera's diagnostic "Connected" sensor: it reads the camera's availability topic.

    Only the gateway's availability applies to it, so it shows "Disconnected" (not
    "unavailable") while the gateway is up and the camera is not.
    """
    node = topics.camera_node(camera.camera_id)
    unique_id = f"{node}_{CONNECTED_KEY}"
    return topics.config("binary_sensor", node, CONNECTED_KEY), {
        "name": "Connected",
        "unique_id": unique_id,
        "default_entity_id": f"binary_sensor.{entity_slug(unique_id)}",
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "state_topic": topics.availability(camera.camera_id),
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "availability_topic": topics.status,
        "qos": 1,
        "device": camera_device(topics, camera),
        "origin": _origin(version),
    }


def camera_configs(
    topics: Topics, camera: CameraDevice, kinds: frozenset[EventKind], version: str
) -> list[tuple[str, dict[str, Any]]]:
    """Every discovery config a camera that reports `kinds` gets."""
    configs = [connected_config(topics, camera, version)]
    configs += [entity_config(topics, camera, s, version) for s in ENTITIES if s.kind in kinds]
    return configs
