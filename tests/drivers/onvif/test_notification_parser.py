"""The XML parser webhook bodies and pulled messages go through: fragments, nesting, and hostile
input (DTDs, entities, oversize and truncated payloads) refused with one typed error that never
quotes the payload. (Moved from checks/: none of it needs the real corpus.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from doorstep.drivers.onvif.notification import (
    MAX_PAYLOAD_BYTES,
    Notification,
    NotificationParseError,
    notification_from_zeep,
    parse_notifications,
)


def test_fragment_without_namespace_declarations_is_wrapped() -> None:
    fragment = (
        b"<wsnt:NotificationMessage><wsnt:Topic>tns1:RuleEngine/CellMotionDetector/Motion//."
        b"</wsnt:Topic><wsnt:Message><tt:Message UtcTime='2024-03-12T01:45:48+01:00' "
        b"PropertyOperation='changed'><tt:Source><tt:SimpleItem Name='Rule' Value='R'/>"
        b"</tt:Source><tt:Data><tt:SimpleItem Name='IsMotion' Value='true'/></tt:Data>"
        b"</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    )
    [notification] = parse_notifications(b'<?xml version="1.0" encoding="UTF-8"?>\n' + fragment)
    assert notification.topic == "tns1:RuleEngine/CellMotionDetector/Motion"
    assert notification.operation == "Changed"
    assert notification.utc_time == datetime(2024, 3, 12, 0, 45, 48, tzinfo=UTC)
    assert notification.source == (("Rule", "R"),)
    assert notification.data == (("IsMotion", "true"),)


def test_nested_notification_in_an_element_item_is_not_a_second_message() -> None:
    xml = (
        b"<wsnt:NotificationMessage><wsnt:Topic>tns1:X/Y</wsnt:Topic><wsnt:Message><tt:Message>"
        b"<tt:Data><tt:ElementItem Name='Blob'><wsnt:NotificationMessage><wsnt:Topic>tns1:Z"
        b"</wsnt:Topic></wsnt:NotificationMessage></tt:ElementItem></tt:Data></tt:Message>"
        b"</wsnt:Message></wsnt:NotificationMessage>"
    )
    [notification] = parse_notifications(xml)
    assert notification.topic == "tns1:X/Y"
    [(name, raw)] = notification.elements
    assert name == "Blob"
    assert "NotificationMessage" in raw


SECRET = b"hunter2-secret-marker"

REFUSED = {
    "doctype": b'<?xml version="1.0"?><!DOCTYPE a [<!ELEMENT a ANY>]><a>' + SECRET + b"</a>",
    "entity-lowercase": b"<!doctype a [<!entity x '" + SECRET + b"'>]><a>&x;</a>",
    "external-entity": (
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;' + SECRET + b"</a>"
    ),
    "billion-laughs": (
        b'<!DOCTYPE l [<!ENTITY a "' + SECRET + b'"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'
    ),
    "utf16-doctype": (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a><a>hunter2-secret-marker</a>'
    ).encode("utf-16"),
    "undefined-entity": b"<wsnt:NotificationMessage>&" + SECRET + b";</wsnt:NotificationMessage>",
    "truncated": b"<env:Envelope><env:Body><wsnt:NotificationMessage><" + SECRET,
    "truncated-declared": (
        b'<a xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"><wsnt:Topic>' + SECRET
    ),
    "mismatched-tags": b"<wsnt:Topic>" + SECRET + b"</wsnt:Other>",
    "not-xml": SECRET + b" is not XML",
    "empty": b"",
    "oversize": b"<a>" + SECRET + b" " * MAX_PAYLOAD_BYTES + b"</a>",
}


@pytest.mark.parametrize("payload", REFUSED.values(), ids=REFUSED.keys())
def test_bad_payload_refused_without_quoting_it(payload: bytes) -> None:
    with pytest.raises(NotificationParseError) as caught:
        parse_notifications(payload)
    message = str(caught.value)
    assert "hunter2" not in message
    assert "secret-marker" not in message
    assert f"{len(payload)} bytes" in message
    assert caught.value.__cause__ is None


def test_payload_at_the_size_limit_is_accepted() -> None:
    payload = b"<a>" + b" " * (MAX_PAYLOAD_BYTES - 7) + b"</a>"
    assert len(payload) == MAX_PAYLOAD_BYTES
    assert parse_notifications(payload) == []


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(NotificationParseError, ValueError)
    with pytest.raises(ValueError, match="must be bytes"):
        parse_notifications("<a/>")  # type: ignore[arg-type]


def test_zeep_message_left_as_an_element_is_read_as_xml() -> None:
    message = etree.fromstring(
        b'<tt:Message xmlns:tt="http://www.onvif.org/ver10/schema" UtcTime="2025-01-01T00:00:00Z"'
        b' PropertyOperation="Initialized"><tt:Source><tt:SimpleItem Name="Source" Value="7"/>'
        b'</tt:Source><tt:Data><tt:SimpleItem Name="State" Value="false"/></tt:Data></tt:Message>'
    )
    notification = notification_from_zeep(
        {"Topic": {"_value_1": "tns1:VideoSource/MotionAlarm/"}, "Message": {"_value_1": message}}
    )
    assert notification == Notification(
        topic="tns1:VideoSource/MotionAlarm",
        operation="Initialized",
        utc_time=datetime(2025, 1, 1, tzinfo=UTC),
        source=(("Source", "7"),),
        data=(("State", "false"),),
    )


def test_zeep_dict_with_pieces_missing_or_odd_does_not_crash() -> None:
    assert notification_from_zeep({}) == Notification(topic="")
    odd = notification_from_zeep(
        {
            "Topic": "tns1:Device/Trigger/DigitalInput",
            "Message": {
                "_value_1": {
                    "UtcTime": datetime(2025, 5, 6, 7, 8, 9),  # noqa: DTZ001 - naive, as zeep gives it
                    "PropertyOperation": "Sideways",
                    "Source": {"SimpleItem": {"Name": "InputToken", "Value": None}},
                    "Data": {"SimpleItem": "not a list", "ElementItem": [None, {"Name": "E"}]},
                }
            },
        }
    )
    assert odd.topic == "tns1:Device/Trigger/DigitalInput"
    assert odd.utc_time == datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert odd.operation is None
    assert odd.source == (("InputToken", ""),)
    assert odd.data == ()
    assert odd.elements == (("E", ""),)
    with pytest.raises(NotificationParseError):
        notification_from_zeep(["not", "a", "mapping"])  # type: ignore[arg-type]
