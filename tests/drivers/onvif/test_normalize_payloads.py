"""The normaliser against payloads written for this project, one per vendor shape and edge case.

The shapes are those of real cameras (Axis, Hikvision, Dahua NVRs, Reolink doorbells, AJAX, Tapo
and TP-Link, unknown vendors), in every form a payload reaches the driver: SOAP envelopes, bare
fragments without namespace declarations, the RTSP metadata stream, and the dicts zeep gives.
The real corpus from other projects is checked separately (`scripts/test-corpus DIR`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from doorstep.drivers.onvif.normalize import normalize
from doorstep.drivers.onvif.notification import (
    Notification,
    notification_from_zeep,
    parse_notifications,
)

PAYLOADS = Path(__file__).resolve().parent / "payloads"
RECEIVED = datetime(2032, 1, 1, tzinfo=UTC)

Event = tuple[str, bool | None, bool, str | None]
"""(kind, active, initial, source): what a payload must normalise to."""

XML: dict[str, list[Event]] = {
    "axis_metadata_stream_vmd4_initialized.xml": [("motion", False, True, "Camera2Profile3")],
    "axis_pullmessages_each_shape.xml": [
        ("motion", True, False, "Camera1ProfileANY"),  # VMD4; the topic names the profile
        ("line_crossing", False, True, "Camera1Profile2"),  # Fence Guard
        ("loitering", True, True, "Camera1Profile4"),
        ("motion", False, True, "Camera1ProfileANY"),  # Motion Guard
        ("person", True, False, "Device1Scenario2"),  # Object Analytics, classTypes=human
        ("digital_input", False, True, "2"),
        ("digital_input", True, True, "-1"),  # the aggregate "any port"
        ("motion", True, False, "0"),  # PIR
        ("relay", True, True, "R2"),
        ("day_night", False, True, "1"),  # day='0': the payload's flag, as sent
        ("audio", True, False, "1"),
        ("storage", False, True, "SD_DISK"),  # -3 health figures are not the alert
        ("ptz", False, False, "1"),
        ("ptz", True, False, "5"),  # the preset token, not the channel in the topic
        ("other", None, True, "0"),  # light status ON: a status, never an alarm
        ("motion", True, True, "1"),  # VMD3 area
        ("motion", False, True, "Garden 2"),  # the rule name wins over the video source
        ("scene_change", True, False, "0"),
    ],
    "hikvision_pullmessages_initialized_burst.xml": [
        ("motion", False, True, "VideoSource_2"),
        ("motion", False, True, "CellRule2"),
        ("tamper", False, True, "TamperRule2"),
        ("other", False, True, "VSC_2"),  # ImageTooDark: image quality, not an intrusion
        ("intrusion", False, True, "Field2"),
        ("other", None, True, None),  # a timestamp status: no on/off
    ],
    "dahua_body_numeric_state.xml": [("motion", True, False, "00300")],  # State='1' is true
    "reolink_fragment_visitor_pressed.xml": [("doorbell", True, False, "001")],
    "reolink_fragment_doorbell_motion_initialized.xml": [("motion", False, True, "001")],
}

PROTOCOL = [
    "protocol_create_pullpoint_60s.xml",
    "protocol_create_pullpoint_empty_address_1970.xml",
    "protocol_pullmessages_empty_bad_termination_time.xml",
    "protocol_event_properties_topic_set.xml",
    "protocol_device_answers.xml",
    "protocol_probe_match.xml",
]


def zeep(
    topic: str,
    data: list[tuple[str, str]] | None = None,
    *,
    source: list[tuple[str, str]] | None = None,
    operation: str | None = "Changed",
    elements: list[tuple[str, str]] | None = None,
    utc: str | None = "2031-06-07T08:09:10.5+00:00",
) -> dict[str, Any]:
    """A notification as zeep's `serialize_object` gives it (what HA users paste), as JSON."""

    def items(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"Name": name, "Value": value} for name, value in pairs]

    message: dict[str, Any] = {
        "Key": None,
        "Data": {
            "SimpleItem": items(data or []),
            "ElementItem": [{"Name": n, "_value_1": xml} for n, xml in elements or []],
            "Extension": None,
        },
        "Extension": None,
        "UtcTime": utc,
        "PropertyOperation": operation,
    }
    if source is not None:
        message["Source"] = {"SimpleItem": items(source), "ElementItem": [], "Extension": None}
    return {
        "SubscriptionReference": None,
        "Topic": {"_value_1": topic, "Dialect": "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"},
        "ProducerReference": None,
        "Message": {"_value_1": message},
    }  # fmt: skip


AJAX_RULE = [("VideoSourceToken", "cam-0"), ("Rule", "cam-0-rule1")]
TAPO = [
    ("VideoSourceConfigurationToken", "vsconf"),
    ("VideoAnalyticsConfigurationToken", "VideoAnalyticsToken"),
]
AJAX_OBJECTS = (
    '<tnsajax:Objects xmlns:tnsajax="http://ajax.systems/onvif/wsdl">'
    "<tnsajax:Human>false</tnsajax:Human><tnsajax:Vehicle>true</tnsajax:Vehicle></tnsajax:Objects>"
)
AJAX_LINE = (
    '<tnsajax:LineCrossing xmlns:tnsajax="http://ajax.systems/onvif/wsdl" id="1">'
    "<tnsajax:Start x='0.1' y='0.2'/><tnsajax:End x='0.9' y='0.2'/></tnsajax:LineCrossing>"
)

ZEEP: dict[str, tuple[dict[str, Any], list[Event]]] = {
    "ajax motion rule": (
        zeep("tns1:RuleEngine/tnsajax:MotionDetector/Detection", [("Detected", "true")],
             source=[("VideoSourceToken", "vsconf"), ("Rule", "YardMotion")]),
        [("motion", True, False, "YardMotion")],
    ),
    "ajax classes, space separated": (
        zeep("tns1:RuleEngine/ObjectDetection/Object", [("ClassTypes", "Vehicle Animal")],
             source=AJAX_RULE),
        [("vehicle", True, False, "cam-0-rule1"), ("animal", True, False, "cam-0-rule1")],
    ),
    "ajax one class, initialized": (
        zeep("tns1:RuleEngine/ObjectDetection/Object", [("ClassTypes", "Human")],
             source=AJAX_RULE, operation="Initialized"),
        [("person", True, True, "cam-0-rule1")],
    ),
    "ajax empty class list: every class cleared": (
        zeep("tns1:RuleEngine/ObjectDetection/Object", [("ClassTypes", "")],
             source=AJAX_RULE, operation=None, utc=None),
        [("person", False, False, "cam-0-rule1"), ("vehicle", False, False, "cam-0-rule1"),
         ("animal", False, False, "cam-0-rule1")],
    ),
    "ajax with no source at all": (
        zeep("tns1:RuleEngine/ObjectDetection/Object", [("ClassTypes", "Human")],
             operation=None, utc=None),
        [("person", True, False, None)],
    ),
    "ajax classes only in embedded xml": (
        zeep("tns1:RuleEngine/tnsajax:ObjectDetector/Detection", source=AJAX_RULE,
             operation=None, elements=[("Objects", AJAX_OBJECTS)]),
        [("person", False, False, "cam-0-rule1"), ("vehicle", True, False, "cam-0-rule1")],
    ),
    "ajax line crossing: a pulse with only embedded xml": (
        zeep("tns1:RuleEngine/tnsajax:LineDetector/Crossing", source=AJAX_RULE,
             operation=None, elements=[("LineCrossing", AJAX_LINE)]),
        [("line_crossing", None, False, "cam-0-rule1")],
    ),
    "hikvision alarm input": (
        zeep("tns1:Device/Trigger/tnshik:AlarmIn", [("State", "true")],
             source=[("AlarmInToken", "AlarmIn_2")], operation="Initialized"),
        [("digital_input", True, True, "AlarmIn_2")],
    ),
    "reolink package, initialized": (
        zeep("tns1:RuleEngine/MyRuleDetector/Package", [("State", "true")],
             source=[("Source", "001")], operation="Initialized"),
        [("package", True, True, "001")],
    ),
    "tapo person": (
        zeep("tns1:RuleEngine/PeopleDetector/People", [("IsPeople", "true")],
             source=[*TAPO, ("Rule", "PeopleRule")]),
        [("person", True, False, "PeopleRule")],
    ),
    "tapo person on the cell motion topic": (
        zeep("tns1:RuleEngine/CellMotionDetector/People", [("IsPeople", "false")],
             source=[*TAPO, ("Rule", "PeopleRule")]),
        [("person", False, False, "PeopleRule")],
    ),
    "tapo vehicle, TpSmartEvent spelling": (
        zeep("tns1:RuleEngine/CellMotionDetector/TpSmartEvent", [("IsVehicle", "true")],
             source=[*TAPO, ("Rule", "SmartRule")]),
        [("vehicle", True, False, "SmartRule")],
    ),
    "tapo pet": (
        zeep("tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent", [("IsPet", "true")],
             source=[*TAPO, ("Rule", "SmartRule")]),
        [("animal", True, False, "SmartRule")],
    ),
    "tapo package delivered, initialized": (
        zeep("tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent", [("IsPackageDeliver", "true")],
             source=[*TAPO, ("Rule", "SmartRule")], operation="Initialized"),
        [("package", True, True, "SmartRule")],
    ),
    "tapo package picked up": (
        zeep("tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent", [("IsPackagePickup", "false")],
             source=[*TAPO, ("Rule", "SmartRule")]),
        [("package", False, False, "SmartRule")],
    ),
    "tapo line cross flag": (
        zeep("tns1:RuleEngine/CellMotionDetector/LineCross", [("IsLineCross", "true")],
             source=[*TAPO, ("Rule", "LineRule")]),
        [("line_crossing", True, False, "LineRule")],
    ),
    "tp-link line cross detector, initialized true": (
        zeep("tns1:RuleEngine/LineCrossDetector/LineCross", [("IsLineCross", "true")],
             source=[*TAPO, ("Rule", "LineRule")], operation="Initialized"),
        [("line_crossing", True, True, "LineRule")],
    ),
    "tapo tamper": (
        zeep("tns1:RuleEngine/CellMotionDetector/Tamper", [("IsTamper", "true")],
             source=[*TAPO, ("Rule", "TamperRule")]),
        [("tamper", True, False, "TamperRule")],
    ),
    "tapo intrusion": (
        zeep("tns1:RuleEngine/CellMotionDetector/Intrusion", [("IsIntrusion", "false")],
             source=[*TAPO, ("Rule", "AreaRule")]),
        [("intrusion", False, False, "AreaRule")],
    ),
    "tapo with no source": (
        zeep("tns1:RuleEngine/PeopleDetector/People", [("IsPeople", "true")],
             operation=None, utc=None),
        [("person", True, False, None)],
    ),
    "tapo flag nobody knows is not guessed": (
        zeep("tns1:RuleEngine/PeopleDetector/People", [("IsNotPerson", "true")],
             source=[*TAPO, ("Rule", "PeopleRule")]),
        [("other", True, False, "PeopleRule")],
    ),
    "line detector pulse marked initialized": (
        zeep("tns1:RuleEngine/LineDetector/Crossed", [("ObjectId", "4")],
             source=[("VideoSourceConfigurationToken", "vsc1"), ("Rule", "Crossing2")],
             operation="Initialized"),
        [("line_crossing", None, True, "Crossing2")],
    ),
    "a topic nobody sends": (
        zeep("acme:Made/Up/Topic", [("State", "true")], source=[("Source", "002")]),
        [("other", True, False, "002")],
    ),
}  # fmt: skip


def events_of(notifications: list[Notification]) -> list[Event]:
    events = [event for n in notifications for event in normalize(n, RECEIVED)]
    for event in events:
        assert event.time.tzinfo is not None
        assert event.topic in {n.topic for n in notifications}
    return [(e.kind.value, e.active, e.initial, e.source) for e in events]


def test_every_payload_file_is_checked() -> None:
    files = {p.name for p in PAYLOADS.glob("*.xml")}
    assert files == set(XML) | set(PROTOCOL)


@pytest.mark.parametrize("name", sorted(XML))
def test_raw_payload_normalises_as_expected(name: str) -> None:
    notifications = parse_notifications((PAYLOADS / name).read_bytes())
    assert all(n.topic for n in notifications)
    assert events_of(notifications) == XML[name]


@pytest.mark.parametrize("case", sorted(ZEEP))
def test_zeep_payload_normalises_as_expected(case: str) -> None:
    payload, expected = ZEEP[case]
    assert events_of([notification_from_zeep(payload)]) == expected


@pytest.mark.parametrize("name", PROTOCOL)
def test_protocol_responses_hold_no_notification(name: str) -> None:
    assert parse_notifications((PAYLOADS / name).read_bytes()) == []


def test_camera_time_is_kept_and_the_receipt_time_fills_in() -> None:
    pressed = (PAYLOADS / "reolink_fragment_visitor_pressed.xml").read_bytes()
    [visitor] = parse_notifications(pressed)
    [event] = normalize(visitor, RECEIVED)
    assert event.time == datetime(2031, 4, 5, 18, 30, tzinfo=UTC)
    [trimmed] = normalize(notification_from_zeep(ZEEP["tapo with no source"][0]), RECEIVED)
    assert trimmed.time == RECEIVED
