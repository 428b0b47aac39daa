"""Body templates render valid JSON whatever a camera's name holds, and refuse what cannot work;
URLs are checked for form only (the host is the owner's choice) and logged without a query."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.gateway.automation.webhook_fields import (
    FieldValue,
    event_fields,
    event_text,
    sample_fields,
)
from doorstep.gateway.automation.webhook_rule import UrlError, check_url, host_of, loggable_url
from doorstep.gateway.automation.webhook_template import (
    DEFAULT_TEMPLATE,
    MAX_TEMPLATE_BYTES,
    BodyTemplate,
    TemplateError,
    check_template,
)
from doorstep.gateway.events import CameraEventReceived
from doorstep.sdk import DeviceEvent, EventKind

HOSTILE = '"}], "owned": true, "x": ["${gateway}{0.__class__}\\\x00\ud800'


def _fields(
    camera_name: str = "Front door", active: bool | None = True
) -> Mapping[str, FieldValue]:
    moment = datetime(2026, 12, 1, 15, 39, 16, 120000, tzinfo=UTC)
    message = CameraEventReceived(
        "front", DeviceEvent(kind=EventKind.DOORBELL, active=active, time=moment), moment
    )
    return event_fields(message, camera_name, "e1", "Doorstep 0.1.0")


def test_the_default_template_sends_every_field() -> None:
    body = json.loads(check_template(None).render(_fields()))
    assert body == {
        "event_id": "e1", "kind": "doorbell", "active": True, "state": "started",
        "text": "Someone rang the doorbell at Front door", "camera_id": "front",
        "camera_name": "Front door", "occurred_at": "2026-12-01T15:39:16.120Z",
        "received_at": "2026-12-01T15:39:16.120Z", "gateway": "Doorstep 0.1.0",
    }  # fmt: skip


def test_a_hostile_camera_name_stays_a_string_of_valid_json() -> None:
    template = BodyTemplate('{"title": "Ring: ${camera_name}", "name": "${camera_name}"}')
    raw = template.render(_fields(HOSTILE))
    body = json.loads(raw)  # valid JSON, the template's shape
    assert set(body) == {"title", "name"}
    assert body["name"] == HOSTILE.replace("\ud800", "?")  # a lone surrogate cannot be UTF-8
    assert body["title"].startswith('Ring: "}], "owned"')
    assert "${gateway}" in body["name"]  # substituted once: a value is never a template


def test_attribute_access_and_format_syntax_are_never_evaluated() -> None:
    with pytest.raises(TemplateError, match="no placeholder"):
        BodyTemplate('{"x": "${camera_name.__class__}"}')
    with pytest.raises(TemplateError, match="no placeholder"):
        BodyTemplate('{"x": "${camera_name[0]}"}')
    literal = BodyTemplate('{"x": "{camera_name.__class__} {0} $$5"}')
    assert json.loads(literal.render(_fields()))["x"] == "{camera_name.__class__} {0} $5"


def test_active_is_a_json_value_alone_and_a_word_in_text() -> None:
    template = BodyTemplate('{"on": "${active}", "also": "$active", "said": "active=${active}"}')
    assert json.loads(template.render(_fields(active=True))) == {
        "on": True, "also": True, "said": "active=true",
    }  # fmt: skip
    assert json.loads(template.render(_fields(active=None))) == {
        "on": None, "also": None, "said": "active=",
    }  # fmt: skip


def test_non_object_templates_and_nesting_render() -> None:
    template = BodyTemplate('[1, 2.5, null, {"deep": ["${kind}", false]}, "${camera_id}"]')
    assert json.loads(template.render(_fields())) == [
        1, 2.5, None, {"deep": ["doorbell", False]}, "front",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"x": "${nope}"}', "unknown field ${nope}"),
        ('{"x": "$5 off"}', "no placeholder"),
        ('{"x": "${"}', "no placeholder"),
        ('{"${kind}": 1}', "not in keys"),
        ('{"x": 1,}', "not JSON"),
        ('{"x": "a" "b"}', "not JSON"),
        ('{"x": 1, "x": 2}', "appears twice"),
        ('{"x": NaN}', "NaN is not JSON"),
        ('{"x": 1e999}', "too large"),
        ('{"x": ' + "1" * 5000 + "}", "too deep or too large"),
        ("[" * 18 + "]" * 18, "nested deeper"),
        ("[" * 17 + "1" + "]" * 17, None),
        ("[" * 5000 + "]" * 5000, "larger than 8 KiB"),
        ("[" * 4000 + "]" * 4000, "too deep or too large"),
        ("", "not JSON"),
        ('["' + "${text}" * 60 + '"]', "could grow past 64 KiB"),
        ('"' + "x" * MAX_TEMPLATE_BYTES + '"', "larger than 8 KiB"),
    ],
)
def test_unusable_templates_are_refused_with_the_reason(text: str, reason: str | None) -> None:
    if reason is None:  # the limit itself is fine
        assert BodyTemplate(text).text == text
        return
    with pytest.raises(TemplateError, match=reason.replace("$", r"\$").replace("{", r"\{")):
        BodyTemplate(text)


def test_the_default_template_is_what_none_means() -> None:
    assert check_template(None).text == DEFAULT_TEMPLATE
    assert check_template('{"a": 1}').text == '{"a": 1}'


def test_events_in_words() -> None:
    assert event_text(EventKind.DOORBELL, True, "Front door") == (
        "Someone rang the doorbell at Front door"
    )
    assert event_text(EventKind.DOORBELL, False, "Front door") == (
        "The doorbell at Front door stopped ringing"
    )
    assert event_text(EventKind.MOTION, True, "Garden") == "Motion at Garden"
    assert event_text(EventKind.MOTION, False, "Garden") == "Motion at Garden ended"
    assert event_text(EventKind.PERSON, None, "Garden") == "A person at Garden"
    assert event_text(EventKind.VEHICLE, True, "Drive") == "A vehicle at Drive"
    for kind in EventKind:  # every kind has words, none is left as a raw code
        assert "_" not in event_text(kind, True, "X")
    assert sample_fields("Doorstep 0.1.0")["kind"] == "doorbell"


@pytest.mark.parametrize(
    "url",
    [
        "https://ntfy.sh/",
        "http://192.168.1.20:1880/doorstep",
        "https://gotify.lan/message?token=AbCdEf",
        "http://[fd00::1]:8080/hook",
        "HTTPS://Example.com/x",
    ],
)
def test_http_urls_to_any_host_are_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:pass@ntfy.sh/topic", "no user name or password"),
        ("https://token@ntfy.sh/topic", "no user name or password"),
        ("ftp://example.com/", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://example.com/#x", "fragment"),
        ("https:///path", "host name or an IP address"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/\r\nX-Injected: 1", "spaces"),
        ("https://example.com:99999/", "not a URL"),
        ("https://[::1/", "not a URL"),
        ("https://bad_host!/", "host name"),
        ("https://example.com/" + "a" * 2048, "longer than"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(UrlError, match=reason):
        check_url(url)


def test_the_log_and_the_audit_see_no_query_and_no_path_respectively() -> None:
    url = "https://gotify.lan:8443/message?token=SECRET"
    assert loggable_url(url) == "https://gotify.lan:8443/message"
    assert host_of(url) == "gotify.lan:8443"
    assert host_of("http://[fd00::1]/x?t=1") == "[fd00::1]"


_PIECES = st.sampled_from(["${text}", "$kind", "${active}", "$$", "$", "${", "}", '"', "\\", "é"])
_STRINGS = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=6).map("".join)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_STRINGS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=_JSON)
def test_any_json_template_renders_valid_json_or_is_refused_with_a_reason(value: object) -> None:
    try:
        template = BodyTemplate(json.dumps(value))
    except TemplateError as exc:
        refused = str(exc)
    else:
        refused = ""
    if refused:  # refused, with a reason (a refusal without one fails below)
        return
    for camera_name in ("Front door", HOSTILE):
        rendered = json.loads(template.render(_fields(camera_name)))
        native = value in ("${active}", "$active")  # the one field that is not text
        assert type(rendered) is type(value) or native or isinstance(value, float | int)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_is_a_template_or_a_template_error(text: str) -> None:
    try:
        template = BodyTemplate(text)
    except TemplateError:
        return
    json.loads(template.render(_fields()))


@settings(max_examples=200, deadline=None)
@given(
    url=st.one_of(
        st.text(max_size=80), st.from_regex(r"\Ahttps?://[^/]{0,30}(/[^?#]{0,20})?(\?.{0,20})?\Z")
    )
)
def test_any_url_is_accepted_or_refused_with_a_reason(url: str) -> None:
    try:
        accepted = check_url(url)
    except UrlError as exc:
        refused = str(exc)
    else:
        refused = ""
    if refused:
        return
    assert accepted == url
    assert "?" not in loggable_url(url)
    assert "@" not in host_of(url)
