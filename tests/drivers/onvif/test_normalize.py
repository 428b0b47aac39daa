"""The mapping rules from ONVIF notifications to SDK events, one rule per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from doorstep.drivers.onvif.normalize import (
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    event_source,
    is_known_topic,
    normalize,
    parse_bool,
    topic_segments,
)
from doorstep.drivers.onvif.notification import Notification, clean_topic, element_fields
from doorstep.sdk import EventKind

RECEIVED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def one(n: Notification) -> tuple[EventKind, bool | None, bool, str | None]:
    """The single event a notification gives, as (kind, active, initial, source)."""
    [event] = normalize(n, RECEIVED)
    return event.kind, event.active, event.initial, event.source


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "tns1:RuleEngine/CellMotionDetector/Motion//.",
            "tns1:RuleEngine/CellMotionDetector/Motion",
        ),
        ("tns1:RuleEngine/CellMotionDetector/Motion/", "tns1:RuleEngine/CellMotionDetector/Motion"),
        ("  tns1:VideoSource/MotionAlarm\n", "tns1:VideoSource/MotionAlarm"),
        ("tns1:Device/Trigger/Relay./ ", "tns1:Device/Trigger/Relay"),
        ("", ""),
    ],
)
def test_topic_cleaning(raw: str, clean: str) -> None:
    assert clean_topic(raw) == clean


def test_topic_segments_drop_prefixes_and_case() -> None:
    assert topic_segments("tns1:RuleEngine/tnsaxis:VMD3//vmd3_video_1") == (
        "ruleengine",
        "vmd3",
        "vmd3_video_1",
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("TRUE", True),
        (" 1 ", True),
        ("active", True),
        ("On", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("inactive", False),
        ("OFF", False),
        ("", None),
        ("2", None),
        ("-3", None),
        ("yes", None),
        ("OFFLINE", None),
    ],
)
def test_boolean_forms(text: str, value: bool | None) -> None:
    assert parse_bool(text) is value


def test_numeric_state_one_means_true() -> None:
    n = Notification("tns1:VideoSource/MotionAlarm", data=(("State", "1"),))
    assert one(n) == (EventKind.MOTION, True, False, None)


def test_initial_only_for_initialized() -> None:
    base = Notification("tns1:VideoSource/MotionAlarm", data=(("State", "true"),))
    for operation, initial in (("Initialized", True), ("Changed", False), (None, False)):
        n = Notification(base.topic, operation=operation, data=base.data)
        assert one(n)[2] is initial


def test_deleted_property_is_over() -> None:
    n = Notification("tns1:RuleEngine/LineDetector/Crossed", operation="Deleted")
    [event] = normalize(n, RECEIVED)
    assert event.active is False
    assert event.attributes["operation"] == "Deleted"


def test_time_falls_back_to_receipt_and_must_be_aware() -> None:
    n = Notification("tns1:VideoSource/MotionAlarm", data=(("State", "true"),))
    assert normalize(n, RECEIVED)[0].time == RECEIVED
    camera = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    stamped = Notification(n.topic, utc_time=camera, data=n.data)
    assert normalize(stamped, RECEIVED)[0].time == datetime(2024, 1, 1, 11, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        normalize(n, datetime(2030, 1, 1))  # noqa: DTZ001 - the naive value is the point


def test_source_prefers_rule_then_token_then_first_item() -> None:
    rule = Notification(
        "t", source=(("VideoSourceConfigurationToken", "vs"), ("RuleName", "Front door"))
    )
    assert event_source(rule) == "Front door"
    token = Notification(
        "t", source=(("DetectWindow", "0"), ("VideoSourceConfigurationToken", "vs"))
    )
    assert event_source(token) == "vs"
    first = Notification("t", source=(("Whatever", "w"),))
    assert event_source(first) == "w"
    assert event_source(Notification("tns1:VideoSource/MotionAlarm")) is None


def test_axis_application_source_is_the_topic_profile() -> None:
    n = Notification("tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile2")
    assert event_source(n) == "Camera1Profile2"
    assert event_source(Notification("tnsaxis:CameraApplicationPlatform/VMD")) is None


def test_unknown_topic_is_other_and_reported_as_unknown() -> None:
    n = Notification("acme:Doorbell/Ring", source=(("Source", "1"),), data=(("State", "on"),))
    assert not is_known_topic(n.topic)
    assert one(n) == (EventKind.OTHER, True, False, "1")
    assert is_known_topic("tns1:RuleEngine/MyRuleDetector/Visitor")
    assert is_known_topic("tns1:Monitoring/ProcessorUsage")


def test_object_id_is_not_a_state() -> None:
    n = Notification("tns1:RuleEngine/LineDetector/Crossed", data=(("ObjectId", "0"),))
    assert one(n) == (EventKind.LINE_CROSSING, None, False, None)


def test_telemetry_has_no_on_off_state() -> None:
    n = Notification("tns1:Device/tnsaxis:Light/Status", data=(("state", "ON"),))
    [event] = normalize(n, RECEIVED)
    assert (event.kind, event.active) == (EventKind.OTHER, None)
    assert event.attributes["value"] == "ON"


def test_several_tapo_flags_give_one_event_each() -> None:
    n = Notification(
        "tns1:RuleEngine/TPSmartEventDetector/TPSmartEvent",
        data=(("IsPeople", "true"), ("IsVehicle", "false"), ("IsGhost", "true")),
    )
    events = normalize(n, RECEIVED)
    assert [(e.kind, e.active) for e in events] == [
        (EventKind.PERSON, True),
        (EventKind.VEHICLE, False),
        (EventKind.OTHER, True),
    ]
    assert [e.attributes["data_item"] for e in events] == ["IsPeople", "IsVehicle", "IsGhost"]


def test_class_list_groups_by_kind_and_keeps_unknown_classes() -> None:
    n = Notification(
        "tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario2",
        data=(("classTypes", "car truck, Unicorn"), ("active", "0")),
    )
    events = normalize(n, RECEIVED)
    assert [(e.kind, e.active, e.attributes["object_class"]) for e in events] == [
        (EventKind.VEHICLE, False, "car truck"),
        (EventKind.OTHER, False, "Unicorn"),
    ]
    assert {e.source for e in events} == {"Device1Scenario2"}


def test_embedded_xml_classes_are_read() -> None:
    raw = "<x:Objects xmlns:x='urn:x'><x:Animal>1</x:Animal><x:Human>0</x:Human></x:Objects>"
    assert element_fields(raw) == (("Animal", "1"), ("Human", "0"))
    n = Notification("tns1:RuleEngine/tnsajax:ObjectDetector/Detection", elements=(("O", raw),))
    assert [(e.kind, e.active) for e in normalize(n, RECEIVED)] == [
        (EventKind.ANIMAL, True),
        (EventKind.PERSON, False),
    ]


def test_unparseable_embedded_xml_is_ignored() -> None:
    assert element_fields("plain text") == ()
    assert element_fields("<a><b>") == ()
    assert element_fields("<!DOCTYPE a><a/>") == ()
    n = Notification("tns1:RuleEngine/LineDetector/Crossed", elements=(("L", "<a><b>"),))
    assert one(n) == (EventKind.LINE_CROSSING, None, False, None)


def test_event_fields_stay_within_the_sdk_limits() -> None:
    n = Notification(
        "tns1:" + "Segment/" * 100 + "End",
        source=(("Rule", "r" * 1000),),
        data=tuple((f"Item{i}" + "k" * 100, "v" * 1000) for i in range(40)),
    )
    [event] = normalize(n, RECEIVED)
    assert event.kind is EventKind.OTHER
    assert len(event.topic) == 512
    assert event.source is not None
    assert len(event.source) == 256
    assert len(event.attributes) <= MAX_ATTRIBUTES
    assert all(len(k) <= MAX_ATTRIBUTE_KEY for k in event.attributes)
    assert all(len(v) <= MAX_ATTRIBUTE_VALUE for v in event.attributes.values())
