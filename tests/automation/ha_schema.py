"""What Home Assistant requires of an MQTT discovery config, as its docs and schemas say.

Sources (read for /work/notes/research-mqtt.md; the commits are those read):
- home-assistant/home-assistant.io `source/_integrations/mqtt.markdown` @ 0a314403: the topic
  `<prefix>/<component>/[<node_id>/]<object_id>/config`, ids `[a-zA-Z0-9_-]+`; availability list
  entries need `topic`; an empty payload removes the entity.
- same repo `event.mqtt.markdown` @ 172bcca0: `state_topic` and `event_types` are
  "required: true"; retained event messages are discarded.
- same repo `binary_sensor.mqtt.markdown` @ fbc3a3b3: `state_topic` is "required: true".
- home-assistant/core `components/mqtt/event.py` @ 03ffd74c: `vol.Required(CONF_EVENT_TYPES)`,
  a list of strings; `state_topic` required through `MQTT_RO_SCHEMA` (`mqtt/config.py`).
- core `components/mqtt/schemas.py`: a device needs `identifiers` or `connections`
  (`validate_device_has_at_least_one_identifier`); `origin` needs `name`; `availability` and
  `availability_topic` are exclusive; `availability_mode` is all | any | latest;
  `default_entity_id` replaces the `object_id` deprecated since 2025.10.
- core `components/event/const.py` (`EventDeviceClass`) and
  `components/binary_sensor/__init__.py` (`BinarySensorDeviceClass`): the device classes.
- The entity pages: "`device` only works when `unique_id` is set" — Doorstep always sends it.
"""

from __future__ import annotations

import re
from typing import Any

REQUIRED: dict[str, frozenset[str]] = {
    "event": frozenset({"state_topic", "event_types"}),
    "binary_sensor": frozenset({"state_topic"}),
}
"""Required keys per platform (per-entity discovery), from the pages and schemas above."""

DEVICE_CLASSES: dict[str, frozenset[str | None]] = {
    "event": frozenset({None, "button", "doorbell", "motion"}),
    "binary_sensor": frozenset({
        None, "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
        "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving",
        "occupancy", "opening", "plug", "power", "presence", "problem", "running", "safety",
        "smoke", "sound", "tamper", "update", "vibration", "window",
    }),
}  # fmt: skip

TOPIC_MATCHER = re.compile(
    r"(?P<prefix>[^/]+)/(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
    r"(?P<object_id>[a-zA-Z0-9_-]+)/config"
)
"""core `mqtt/discovery.py`'s TOPIC_MATCHER, with the configurable prefix as a group."""
VALID_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")
"""core `homeassistant/core.py`'s VALID_ENTITY_ID."""


def problems(topic: str, payload: dict[str, Any]) -> list[str]:
    """Everything in a discovery config that Home Assistant would refuse (empty: valid)."""
    found: list[str] = []
    match = TOPIC_MATCHER.fullmatch(topic)
    if match is None:
        return [f"topic {topic!r} does not match Home Assistant's discovery pattern"]
    component = match["component"]
    if component not in REQUIRED:
        return [f"component {component!r} is not one this table covers"]
    found += [f"missing required {key!r}" for key in sorted(REQUIRED[component] - payload.keys())]
    if component == "event":
        types = payload.get("event_types")
        if not (isinstance(types, list) and types and all(isinstance(t, str) for t in types)):
            found.append("event_types must be a non-empty list of strings")
    if payload.get("device_class") not in DEVICE_CLASSES[component]:
        found.append(f"unknown device_class {payload.get('device_class')!r}")
    found += _availability(payload)
    found += _identity(component, payload)
    return found


def _availability(payload: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("state_topic", "availability_topic"):
        if key in payload and not (isinstance(payload[key], str) and payload[key]):
            found.append(f"{key} must be a non-empty topic")
    if "availability" in payload and "availability_topic" in payload:
        found.append("availability and availability_topic are exclusive")
    for entry in payload.get("availability", []):
        if not isinstance(entry, dict) or not entry.get("topic"):
            found.append("every availability entry needs a topic")
    if payload.get("availability_mode", "latest") not in {"all", "any", "latest"}:
        found.append("availability_mode must be all, any or latest")
    return found


def _identity(component: str, payload: dict[str, Any]) -> list[str]:
    found: list[str] = []
    device = payload.get("device")
    if device is not None and not (device.get("identifiers") or device.get("connections")):
        found.append("device needs identifiers or connections")
    if device is not None and not payload.get("unique_id"):
        found.append("device only works with a unique_id")
    origin = payload.get("origin")
    if origin is not None and not origin.get("name"):
        found.append("origin needs a name")
    if "object_id" in payload:
        found.append("object_id is deprecated: use default_entity_id")
    entity_id = payload.get("default_entity_id")
    if entity_id is not None and not (
        VALID_ENTITY_ID.match(entity_id) and entity_id.startswith(f"{component}.")
    ):
        found.append(f"default_entity_id {entity_id!r} is not a valid {component} entity id")
    return found
