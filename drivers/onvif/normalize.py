"""Maps ONVIF notifications onto the SDK event vocabulary: kind, on/off state, source token.

`normalize` never logs: a caller that wants to report an unknown topic once checks
`is_known_topic` and keeps its own set of topics it has already reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from doorstep.drivers.onvif.notification import Notification, element_fields
from doorstep.sdk import DeviceEvent, EventKind

K = EventKind

MAX_ATTRIBUTES = 16
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTE_VALUE = 128
_MAX_SOURCE = 256
_MAX_TOPIC = 512

_TRUE = frozenset({"true", "1", "active", "on"})
_FALSE = frozenset({"false", "0", "inactive", "off"})
# Only these spellings count when a data item's name does not say it is a state: '0'/'1' alone
# could be an object id (LineDetector/Crossed carries ObjectId=0 and no state).
_WORD_BOOLEANS = frozenset({"true", "false", "active", "inactive", "on", "off"})


@dataclass(frozen=True, slots=True)
class _TopicRule:
    kind: EventKind
    telemetry: bool = False
    """Status or bookkeeping values rather than an alarm: never reported as on/off."""


_T = _TopicRule
# Keys are topic segments without namespace prefixes, lower-cased; the longest matching prefix
# of a message's topic wins. Kind OTHER entries are known topics with no vocabulary word, or
# topics whose meaning is carried by the data (object classes, Tapo flags).
_TOPICS: dict[tuple[str, ...], _TopicRule] = {
    ("videosource", "motionalarm"): _T(K.MOTION),
    ("videosource", "globalscenechange"): _T(K.SCENE_CHANGE),
    ("videosource", "daynightvision"): _T(K.DAY_NIGHT),  # Axis
    ("videosource", "imagetoodark"): _T(K.OTHER),
    ("videosource", "imagetoobright"): _T(K.OTHER),
    ("videosource", "imagetooblurry"): _T(K.OTHER),
    ("videosource", "signalloss"): _T(K.OTHER),
    ("ruleengine", "cellmotiondetector", "motion"): _T(K.MOTION),
    ("ruleengine", "cellmotiondetector", "people"): _T(K.PERSON),  # Tapo
    ("ruleengine", "cellmotiondetector", "linecross"): _T(K.LINE_CROSSING),  # Tapo
    ("ruleengine", "cellmotiondetector", "tamper"): _T(K.TAMPER),  # Tapo
    ("ruleengine", "cellmotiondetector", "intrusion"): _T(K.INTRUSION),  # Tapo
    ("ruleengine", "cellmotiondetector", "tpsmartevent"): _T(K.OTHER),  # Tapo, class in data
    ("ruleengine", "motionregiondetector"): _T(K.MOTION),
    ("ruleengine", "motiondetector"): _T(K.MOTION),  # AJAX tnsajax:MotionDetector/Detection
    ("ruleengine", "vmd3"): _T(K.MOTION),  # Axis legacy VMD3
    ("ruleengine", "myruledetector", "visitor"): _T(K.DOORBELL),  # Reolink doorbell button
    ("ruleengine", "myruledetector", "package"): _T(K.PACKAGE),
    ("ruleengine", "myruledetector", "peopledetect"): _T(K.PERSON),
    ("ruleengine", "myruledetector", "facedetect"): _T(K.PERSON),
    ("ruleengine", "myruledetector", "vehicledetect"): _T(K.VEHICLE),
    ("ruleengine", "myruledetector", "dogcatdetect"): _T(K.ANIMAL),
    ("ruleengine", "myruledetector", "motion"): _T(K.MOTION),
    ("ruleengine", "peopledetector"): _T(K.PERSON),  # Tapo
    ("ruleengine", "tpsmarteventdetector"): _T(K.OTHER),  # Tapo, class in data
    ("ruleengine", "objectdetection"): _T(K.OTHER),  # AJAX, classes in ClassTypes
    ("ruleengine", "objectdetector"): _T(K.OTHER),  # AJAX, classes in embedded XML
    ("ruleengine", "linedetector"): _T(K.LINE_CROSSING),
    ("ruleengine", "linecrossdetector"): _T(K.LINE_CROSSING),  # TP-Link C250
    ("ruleengine", "fielddetector"): _T(K.INTRUSION),  # Hikvision field detection
    ("ruleengine", "loiteringdetector"): _T(K.LOITERING),
    ("ruleengine", "tamperdetector"): _T(K.TAMPER),
    ("cameraapplicationplatform", "vmd"): _T(K.MOTION),  # AXIS VMD4
    ("cameraapplicationplatform", "motionguard"): _T(K.MOTION),
    ("cameraapplicationplatform", "fenceguard"): _T(K.LINE_CROSSING),
    ("cameraapplicationplatform", "loiteringguard"): _T(K.LOITERING),
    ("cameraapplicationplatform", "objectanalytics"): _T(K.OTHER),  # class in data
    ("audiosource", "triggerlevel"): _T(K.AUDIO),  # Axis
    ("audioanalytics", "audio"): _T(K.AUDIO),
    ("device", "trigger", "digitalinput"): _T(K.DIGITAL_INPUT),
    ("device", "trigger", "alarmin"): _T(K.DIGITAL_INPUT),  # Hikvision wired alarm input
    ("device", "trigger", "relay"): _T(K.RELAY),
    ("device", "io", "port"): _T(K.DIGITAL_INPUT),  # Axis I/O port (door-station buttons)
    ("device", "io", "virtualinput"): _T(K.DIGITAL_INPUT),
    ("device", "sensor", "pir"): _T(K.MOTION),  # Axis PIR sensor
    ("device", "light", "status"): _T(K.OTHER, telemetry=True),  # Axis illuminator ON/OFF
    ("device", "hardwarefailure", "storagefailure"): _T(K.STORAGE),
    ("device", "hardwarefailure", "harddiskfull"): _T(K.STORAGE),  # Hikvision
    ("device", "hardwarefailure", "harddiskerror"): _T(K.STORAGE),  # Hikvision
    ("device", "network"): _T(K.OTHER),  # Hikvision EthernetBroken / IPAddrConflict
    ("storage",): _T(K.STORAGE),  # Axis tnsaxis:Storage/Alert, Disruption
    ("ptzcontroller",): _T(K.PTZ),
    ("useralarm",): _T(K.OTHER),
    ("monitoring",): _T(K.OTHER, telemetry=True),
    ("configuration",): _T(K.OTHER, telemetry=True),
    ("media",): _T(K.OTHER, telemetry=True),
    ("recordingconfig",): _T(K.OTHER, telemetry=True),
}

# Object class names (AJAX ClassTypes, Axis Object Analytics classTypes, embedded XML leaves).
_CLASS_KINDS = {
    "human": K.PERSON,
    "person": K.PERSON,
    "people": K.PERSON,
    "face": K.PERSON,
    "vehicle": K.VEHICLE,
    "car": K.VEHICLE,
    "truck": K.VEHICLE,
    "bus": K.VEHICLE,
    "bike": K.VEHICLE,
    "bicycle": K.VEHICLE,
    "motorcycle": K.VEHICLE,
    "othervehicle": K.VEHICLE,
    "animal": K.ANIMAL,
    "pet": K.ANIMAL,
    "dog": K.ANIMAL,
    "cat": K.ANIMAL,
    "package": K.PACKAGE,
    "parcel": K.PACKAGE,
}
# AJAX: an empty ClassTypes means every class it reports has cleared (HA issue #160692).
_CLEARED_CLASSES = ((K.PERSON, "Human"), (K.VEHICLE, "Vehicle"), (K.ANIMAL, "Animal"))
_CLASS_LIST_ITEMS = frozenset({"classtypes", "classtype", "objectclass"})

# Tapo/ONVIF `Is<Thing>` data flags, keyed by the lower-cased name without "Is". A flag that is
# not listed is reported as kind OTHER even on a known topic (synthetic 'IsNotPerson' sample).
_FLAG_KINDS = {
    "motion": K.MOTION,
    "people": K.PERSON,
    "person": K.PERSON,
    "human": K.PERSON,
    "vehicle": K.VEHICLE,
    "car": K.VEHICLE,
    "pet": K.ANIMAL,
    "animal": K.ANIMAL,
    "dogcat": K.ANIMAL,
    "package": K.PACKAGE,
    "packagedeliver": K.PACKAGE,
    "packagepickup": K.PACKAGE,
    "tamper": K.TAMPER,
    "intrusion": K.INTRUSION,
    "inside": K.INTRUSION,  # Hikvision FieldDetector/ObjectsInside
    "linecross": K.LINE_CROSSING,
    "loitering": K.LOITERING,
}
_FLAG_NAME = re.compile(r"^Is[A-Z]")
# Data item names that hold the on/off state (Axis writes them in lower case).
_STATE_ITEMS = frozenset(
    {
        "state",
        "logicalstate",
        "active",
        "detected",
        "triggered",
        "alert",
        "day",
        "is_moving",
        "on_preset",
        "motion",
        "alarm",
    }
)
_RULE_ITEMS = frozenset({"rule", "rulename"})
_INPUT_ITEMS = frozenset(
    {"source", "videosource", "channel", "port", "sensor", "input", "id", "disk_id", "areaid"}
)
_VIDEO_SOURCE_ITEMS = frozenset(
    {"videosourceconfigurationtoken", "videosourcetoken", "videosource"}
)


def parse_bool(value: str) -> bool | None:
    """ONVIF booleans in every spelling seen: true/false, 1/0, active/inactive, on/off."""
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def topic_segments(topic: str) -> tuple[str, ...]:
    """The topic's path segments without namespace prefixes, lower-cased, for matching."""
    return tuple(part.rsplit(":", 1)[-1].strip().lower() for part in topic.split("/") if part)


def is_known_topic(topic: str) -> bool:
    """True when the topic maps onto the vocabulary (or is known to carry none)."""
    return _topic_rule(topic) is not None


def event_source(n: Notification) -> str | None:
    """The rule name, else the input/channel token, else (Axis apps) the topic's profile."""
    for name, value in n.source:
        if name.lower() in _RULE_ITEMS and value.strip():
            return value[:_MAX_SOURCE]
    given = [(name.lower(), value) for name, value in n.source if value.strip()]
    for name, value in given:
        if name.endswith("token") or name in _INPUT_ITEMS:
            return value[:_MAX_SOURCE]
    if given:
        return given[0][1][:_MAX_SOURCE]
    segments = n.topic.split("/")
    if len(segments) >= 3 and "cameraapplicationplatform" in topic_segments(n.topic):
        # AXIS ACAP events (VMD4, Fence/Loitering/Motion Guard, Object Analytics) leave Source
        # empty and name the profile or scenario in the last topic segment.
        return segments[-1].rsplit(":", 1)[-1].strip()[:_MAX_SOURCE] or None
    return None


def normalize(n: Notification, received_at: datetime) -> list[DeviceEvent]:
    """The SDK events one notification means: one per message, or one per object class."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be time-zone aware")
    rule = _topic_rule(n.topic)
    source = event_source(n)
    common = _common_attributes(n)
    findings = _findings(n, rule)
    return [
        DeviceEvent(
            kind=kind,
            active=_deleted_state(n, active),
            time=n.utc_time or received_at,
            source=source,
            topic=n.topic[:_MAX_TOPIC],
            initial=n.operation == "Initialized",
            attributes=_bounded(extra, common),
        )
        for kind, active, extra in findings
    ]


_Finding = tuple[EventKind, bool | None, dict[str, str]]


def _topic_rule(topic: str) -> _TopicRule | None:
    segments = topic_segments(topic)
    for length in range(len(segments), 0, -1):
        rule = _TOPICS.get(segments[:length])
        if rule is not None:
            return rule
    return None


def _findings(n: Notification, rule: _TopicRule | None) -> list[_Finding]:
    kind = rule.kind if rule is not None else K.OTHER
    if rule is not None and rule.telemetry:
        first = n.data[0] if n.data else None
        extra = {"data_item": first[0], "value": first[1]} if first else {}
        return [(kind, None, extra)]
    state_name, state = _state(item for item in n.data if not _FLAG_NAME.match(item[0]))
    by_class = _class_findings(n, state)
    if by_class:
        return by_class
    flags = [(name, parse_bool(value)) for name, value in n.data if _FLAG_NAME.match(name)]
    if flags:
        return [
            (_FLAG_KINDS.get(name[2:].lower(), K.OTHER), active, {"data_item": name})
            for name, active in flags
        ]
    return [(kind, state, {"data_item": state_name} if state_name else {})]


def _state(items: Iterable[tuple[str, str]]) -> tuple[str | None, bool | None]:
    candidates = list(items)
    for name, value in candidates:
        if name.lower() in _STATE_ITEMS and (state := parse_bool(value)) is not None:
            return name, state
    for name, value in candidates:
        if value.strip().lower() in _WORD_BOOLEANS:
            return name, parse_bool(value)
    return None, None


def _class_findings(n: Notification, state: bool | None) -> list[_Finding]:
    found: list[tuple[EventKind, str, bool | None]] = []
    listed = [value for name, value in n.data if name.lower() in _CLASS_LIST_ITEMS]
    if listed:
        names = " ".join(listed).replace(",", " ").split()
        if not names and state is not True:
            found = [(kind, name, False) for kind, name in _CLEARED_CLASSES]
        # A listed class is present unless a separate state item (Axis 'active') says otherwise.
        found += [
            (_CLASS_KINDS.get(name.lower(), K.OTHER), name, state is not False) for name in names
        ]
    else:
        # AJAX ObjectDetector/Detection: <Human>true</Human><Vehicle>false</Vehicle> in XML.
        for _, raw in n.elements:
            for name, value in element_fields(raw):
                kind = _CLASS_KINDS.get(name.lower())
                if kind is not None and (flag := parse_bool(value)) is not None:
                    found.append((kind, name, flag))
    return _merge_classes(found)


def _merge_classes(found: list[tuple[EventKind, str, bool | None]]) -> list[_Finding]:
    # One event per kind: 'Car Truck' is one vehicle event; any true member makes it active.
    names: dict[EventKind, list[str]] = {}
    states: dict[EventKind, bool | None] = {}
    for kind, name, active in found:
        names.setdefault(kind, []).append(name)
        states[kind] = _either(states.get(kind), active)
    return [(kind, states[kind], {"object_class": " ".join(names[kind])}) for kind in names]


def _either(first: bool | None, second: bool | None) -> bool | None:
    if first is True or second is True:
        return True
    if first is False or second is False:
        return False
    return None


def _deleted_state(n: Notification, active: bool | None) -> bool | None:
    # A Deleted property no longer exists, so whatever it reported is over.
    if n.operation == "Deleted" and active is None:
        return False
    return active


def _common_attributes(n: Notification) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, value in n.source:
        low = name.lower()
        if low in _RULE_ITEMS:
            attributes.setdefault("rule", value)
        elif low in _VIDEO_SOURCE_ITEMS:
            attributes.setdefault("video_source", value)
    for name, value in (*n.key, *n.data):
        if name.lower() == "objectid":
            attributes.setdefault("object_id", value)
    if n.operation == "Deleted":
        attributes["operation"] = "Deleted"
    for name, value in n.data:
        if name:
            attributes.setdefault(f"data.{name}", value)
    for element_name, raw in n.elements:
        for name, value in element_fields(raw):
            attributes.setdefault(f"data.{element_name}.{name}", value)
    return attributes


def _bounded(*parts: dict[str, str]) -> dict[str, str]:
    # Earlier parts win and come first, so the per-event keys survive the size cap.
    bounded: dict[str, str] = {}
    for part in parts:
        for key, value in part.items():
            if len(bounded) >= MAX_ATTRIBUTES:
                return bounded
            bounded.setdefault(key[:MAX_ATTRIBUTE_KEY], value[:MAX_ATTRIBUTE_VALUE])
    return bounded
