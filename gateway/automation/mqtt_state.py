"""What Doorstep has told (or must tell) the broker: bus events in, MQTT messages out.

No I/O here: `MqttState` keeps each camera's name, identity, availability, the event kinds it
reports and which sensors are on, and turns every change into the messages that say so;
`everything()` is the retained picture to republish after a (re)connect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from doorstep.gateway.automation.ha_discovery import (
    DOORBELL_EVENT,
    ENTITIES,
    ENTITY_KINDS,
    OFF,
    OFFLINE,
    ON,
    ONLINE,
    RING_OFF_S,
    CameraDevice,
    EntitySpec,
    Topics,
    camera_configs,
    camera_device,
    gateway_config,
)
from doorstep.gateway.events import CameraEventReceived, CameraState, CameraStateChanged
from doorstep.sdk import DeviceInfo, EventKind

ONE_OFF_S = 5.0
"""A one-off event (no start/end, `active` None) holds its sensor on for this long."""
MAX_SOURCES = 32
"""Sources (video inputs, rules) tracked per sensor; further ones share one slot."""
MAX_REMOVED = 1024
"""Removed cameras whose retained topics are cleared again on each reconnect."""
MAX_DETAILS = 16
MAX_DETAIL_CHARS = 200
"""Bounds on the camera's own attributes passed on in a ring's payload."""

_BINARY = tuple(spec for spec in ENTITIES if spec.component == "binary_sensor")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One MQTT message to publish (QoS 1)."""

    topic: str
    payload: bytes
    retain: bool
    momentary: bool = False
    """An event: worthless later, so dropped while disconnected and never replayed."""

    @property
    def size(self) -> int:
        """Bytes it holds in the outbox."""
        return len(self.topic) + len(self.payload)


def _retained(topic: str, value: str | dict[str, Any]) -> Outgoing:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return Outgoing(topic, text.encode(), retain=True)


def _cleared(topic: str) -> Outgoing:
    # An empty retained message deletes the retained one (and a discovery config's entity).
    return Outgoing(topic, b"", retain=True)


@dataclass(slots=True)
class _Camera:
    camera_id: str
    name: str
    info: DeviceInfo | None = None
    online: bool = False
    kinds: set[EventKind] = field(default_factory=set)
    active: dict[str, set[str | None]] = field(default_factory=dict)
    """Sensor key → the sources currently on (the sensor is ON while any is)."""

    def device(self) -> CameraDevice:
        return CameraDevice(self.camera_id, self.name, self.info)

    def is_on(self, key: str) -> bool:
        return bool(self.active.get(key))


AutoOff = Callable[[float, str, str, str | None], None]
"""`(delay_s, camera_id, key, source)`: call `MqttState.release` with them after the delay."""


class MqttState:
    """The model behind everything published; fed by the bus, read on every (re)connect."""

    def __init__(self, topics: Topics, version: str, auto_off: AutoOff) -> None:
        self.topics = topics
        self.version = version
        self._auto_off = auto_off
        self.cameras: dict[str, _Camera] = {}
        self.removed: dict[str, None] = {}
        """Removed camera ids, oldest first (a dict as an ordered set)."""

    # -- bus input -------------------------------------------------------------------------
    def on_state(self, change: CameraStateChanged, name: str | None) -> list[Outgoing]:
        """A camera's connection state changed; `name` None: it is no longer supervised."""
        if name is None:
            return self.remove(change.camera_id) if change.state is CameraState.STOPPED else []
        camera, out = self._camera(change.camera_id, name)
        if change.info is not None and change.info != camera.info:
            before = camera_device(self.topics, camera.device())
            camera.info = change.info
            if camera_device(self.topics, camera.device()) != before:
                out += self._configs(camera)
        online = change.state is CameraState.ONLINE
        if online != camera.online:
            camera.online = online
            out.append(self._availability(camera))
            if not online:
                # Its states are unknown until it reconnects (and re-sends them): not left ON.
                on = [s for s in _BINARY if camera.is_on(s.key)]
                camera.active.clear()
                out += [self._sensor(camera, s) for s in on]
        return out

    def learn(self, camera_id: str, name: str, kinds: set[EventKind]) -> list[Outgoing]:
        """Kinds a camera reported before (from the history): its entities exist already."""
        camera, out = self._camera(camera_id, name)
        return out + self._add_kinds(camera, kinds)

    def on_event(self, received: CameraEventReceived, name: str | None) -> list[Outgoing]:
        """A camera event: sensors on/off, and a ring on the doorbell's event entity."""
        event = received.event
        if name is None or event.kind not in ENTITY_KINDS:
            return []
        camera, out = self._camera(received.camera_id, name)
        out += self._add_kinds(camera, {event.kind})
        source = event.source
        for spec in _BINARY:
            if spec.kind is not event.kind:
                continue
            sources = camera.active.setdefault(spec.key, set())
            was_on = bool(sources)
            if source not in sources and len(sources) >= MAX_SOURCES:
                source = None
            if event.active is False:
                sources.discard(source)
            else:
                sources.add(source)
                if event.active is None:
                    self._auto_off(ONE_OFF_S, camera.camera_id, spec.key, source)
                elif spec.key == "ring":
                    self._auto_off(RING_OFF_S, camera.camera_id, spec.key, source)
            if bool(sources) != was_on:
                out.append(self._sensor(camera, spec))
        if event.kind is EventKind.DOORBELL and event.active is not False and not event.initial:
            out.append(self._ring(camera, received))
        return out

    def release(self, camera_id: str, key: str, source: str | None) -> list[Outgoing]:
        """An auto-off came due: that source's part of the sensor ends."""
        camera = self.cameras.get(camera_id)
        sources = None if camera is None else camera.active.get(key)
        if camera is None or not sources or source not in sources:
            return []
        sources.discard(source)
        spec = next(s for s in _BINARY if s.key == key)
        return [] if sources else [self._sensor(camera, spec)]

    def remove(self, camera_id: str) -> list[Outgoing]:
        """Forget a camera and clear every retained topic it had (its entities disappear)."""
        self.cameras.pop(camera_id, None)
        self.removed[camera_id] = None
        while len(self.removed) > MAX_REMOVED:
            del self.removed[next(iter(self.removed))]
        return [_cleared(topic) for topic in self.topics.camera_topics(camera_id)]

    # -- output ----------------------------------------------------------------------------
    def everything(self) -> list[Outgoing]:
        """The whole retained picture: discovery, availability and sensor states, clears."""
        topic, config = gateway_config(self.topics, self.version)
        out = [_retained(topic, config)]
        for camera_id in self.removed:
            out += [_cleared(t) for t in self.topics.camera_topics(camera_id)]
        for camera in self.cameras.values():
            out += self._configs(camera)
            out.append(self._availability(camera))
            out += [self._sensor(camera, s) for s in _BINARY if s.kind in camera.kinds]
        return out

    # -- helpers ---------------------------------------------------------------------------
    def _camera(self, camera_id: str, name: str) -> tuple[_Camera, list[Outgoing]]:
        """The camera's model (made on first sight, with its discovery); renames republish."""
        camera = self.cameras.get(camera_id)
        if camera is None:
            self.removed.pop(camera_id, None)
            camera = self.cameras[camera_id] = _Camera(camera_id, name)
            return camera, [*self._configs(camera), self._availability(camera)]
        if camera.name != name:
            camera.name = name
            return camera, self._configs(camera)
        return camera, []

    def _add_kinds(self, camera: _Camera, kinds: set[EventKind]) -> list[Outgoing]:
        new = (kinds & ENTITY_KINDS) - camera.kinds
        if not new:
            return []
        camera.kinds |= new
        return self._configs(camera) + [self._sensor(camera, s) for s in _BINARY if s.kind in new]

    def _configs(self, camera: _Camera) -> list[Outgoing]:
        configs = camera_configs(
            self.topics, camera.device(), frozenset(camera.kinds), self.version
        )
        return [_retained(topic, payload) for topic, payload in configs]

    def _availability(self, camera: _Camera) -> Outgoing:
        return _retained(
            self.topics.availability(camera.camera_id), ONLINE if camera.online else OFFLINE
        )

    def _sensor(self, camera: _Camera, spec: EntitySpec) -> Outgoing:
        return _retained(
            self.topics.state(camera.camera_id, spec.key), ON if camera.is_on(spec.key) else OFF
        )

    def _ring(self, camera: _Camera, received: CameraEventReceived) -> Outgoing:
        event = received.event
        details = {
            key[:MAX_DETAIL_CHARS]: value[:MAX_DETAIL_CHARS]
            for key, value in list(event.attributes.items())[:MAX_DETAILS]
        }
        payload = {
            "event_type": "ring",
            "camera_id": camera.camera_id,
            "camera_name": camera.name,
            "received_at": received.received_at.isoformat(),
            "device_time": event.time.isoformat(),
            "source": event.source,
            "details": details,
        }
        topic = self.topics.event(camera.camera_id, DOORBELL_EVENT.key)
        text = json.dumps(payload, separators=(",", ":"))
        return Outgoing(topic, text.encode(), retain=False, momentary=True)
