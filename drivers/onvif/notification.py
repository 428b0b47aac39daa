"""A neutral model of one ONVIF NotificationMessage, and hardened parsers that produce it.

Two inputs are supported: raw XML (PullMessages/Notify SOAP envelopes, RTSP metadata-stream
`tt:Event` wrappers, or bare fragments pasted without namespace declarations) and the dict that
zeep's `serialize_object` makes of a `wsnt:NotificationMessageHolderType`. The XML parser is also
meant for untrusted webhook bodies, so it refuses DTDs, caps the input size and never echoes the
payload in its errors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# lxml ships no type information (pyproject's mypy override lets it in as Any); the calls used
# here are wrapped in typed helpers so the untyped surface stays inside this module.
from lxml import etree

MAX_PAYLOAD_BYTES = 1024 * 1024
"""Largest XML payload accepted; a real PullMessages answer with a burst of events is ~20 KiB."""

MAX_MESSAGES = 64
"""Most NotificationMessages kept per payload; the rest are dropped and counted (issue 11: one
camera sent ~780 per webhook body to drown the others' events)."""

MAX_ITEMS = 64
"""Most items kept per Source/Key/Data section (and per ElementItem); the rest are dropped."""

Items = tuple[tuple[str, str], ...]
"""Ordered (name, value) pairs, as the camera sent them."""

_OPERATIONS = {"initialized": "Initialized", "changed": "Changed", "deleted": "Deleted"}
_FORBIDDEN = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?")
_WRAPPER = "doorstep-fragment"

# Prefixes that pasted fragments use without declaring them (INDEX.md "fragment" form). A
# declaration inside the fragment still wins over these, so declaring extras is harmless.
_FRAGMENT_NAMESPACES = {
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "tt": "http://www.onvif.org/ver10/schema",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsa5": "http://www.w3.org/2005/08/addressing",
    "SOAP-ENV": "http://www.w3.org/2003/05/soap-envelope",
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tns1": "http://www.onvif.org/ver10/topics",
    "tnsaxis": "http://www.axis.com/2009/event/topics",
    "tnshik": "http://www.hikvision.com/2011/event/topics",
}
_WRAPPER_OPEN = (
    f"<{_WRAPPER} "
    + " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _FRAGMENT_NAMESPACES.items())
    + ">"
).encode()
_WRAPPER_CLOSE = f"</{_WRAPPER}>".encode()


class NotificationParseError(ValueError):
    """A payload that is not a usable ONVIF notification; the message never quotes the payload."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One ONVIF NotificationMessage, reduced to what event normalisation needs."""

    topic: str
    """The topic as the camera wrote it, minus surrounding blanks and trailing '/' or '.'."""
    operation: str | None = None
    """'Initialized', 'Changed', 'Deleted', or None when absent or unrecognised."""
    utc_time: datetime | None = None
    """The camera's UtcTime in UTC, or None when absent or unparseable."""
    source: Items = ()
    key: Items = ()
    data: Items = ()
    elements: Items = ()
    """Data ElementItems as (Name, embedded XML, or text when the item holds no element)."""


def clean_topic(topic: str) -> str:
    """Strip blanks and the trailing '/' and '.' junk some firmware appends ('…/Motion//.')."""
    return topic.strip().rstrip("/.").strip()


def parse_operation(value: object) -> str | None:
    """The canonical PropertyOperation name, or None when absent or unknown."""
    if not isinstance(value, str):
        return None
    return _OPERATIONS.get(value.strip().lower())


def parse_utc_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or a datetime; None when unusable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            # Firmware sends impossible times (minute 61); the caller falls back to receipt time.
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        # UtcTime is UTC by definition; naive values come from zeep or sloppy firmware.
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: as useless as no time at all
        return None


@dataclass(frozen=True, slots=True)
class NotificationBatch:
    """The NotificationMessages of one payload, at most MAX_MESSAGES; `dropped` counts the rest."""

    notifications: tuple[Notification, ...]
    dropped: int = 0


def parse_notification_batch(xml: bytes, limit: int = MAX_MESSAGES) -> NotificationBatch:
    """The first `limit` NotificationMessages of an XML payload, in document order."""
    elements = _notification_elements(_parse_root(xml))
    kept = tuple(_from_notification_element(element) for element in elements[:limit])
    return NotificationBatch(kept, max(0, len(elements) - limit))


def parse_notifications(xml: bytes) -> list[Notification]:
    """The NotificationMessages in an XML payload, in document order, at most MAX_MESSAGES."""
    return list(parse_notification_batch(xml).notifications)


def notification_from_zeep(obj: Mapping[str, Any]) -> Notification:
    """A Notification from zeep's `serialize_object` dict of a NotificationMessageHolderType."""
    if not isinstance(obj, Mapping):
        raise NotificationParseError(f"zeep notification must be a mapping, not {type(obj)!r}")
    topic = _zeep_topic(obj.get("Topic"))
    holder = obj.get("Message")
    message = holder.get("_value_1") if isinstance(holder, Mapping) else holder
    if _is_element(message):
        # zeep hands over the raw element when it cannot map tt:Message onto the schema.
        return _from_message_element(topic, message)
    if not isinstance(message, Mapping):
        message = {}
    data = message.get("Data")
    return Notification(
        topic=topic,
        operation=parse_operation(message.get("PropertyOperation")),
        utc_time=parse_utc_time(message.get("UtcTime")),
        source=_zeep_simple_items(message.get("Source")),
        key=_zeep_simple_items(message.get("Key")),
        data=_zeep_simple_items(data),
        elements=_zeep_element_items(data),
    )


def element_fields(raw: str) -> Items:
    """Leaf values of an ElementItem's embedded XML: ('Human', 'true'), ('Line.id', '0'), …

    Returns () for text that is not XML or cannot be parsed safely.
    """
    text = raw.strip()
    if not text.startswith("<"):
        return ()
    try:
        root = _parse_root(text.encode("utf-8"), force_wrap=True)
    except NotificationParseError:
        return ()
    fields: list[tuple[str, str]] = []
    for element in _elements(root):
        if element is root:
            continue
        name = _local(element.tag)
        fields.extend((f"{name}.{_local(key)}", str(value)) for key, value in element.items())
        if len(element) == 0 and element.text and element.text.strip():
            fields.append((name, element.text.strip()))
        if len(fields) >= MAX_ITEMS:
            break
    return tuple(fields[:MAX_ITEMS])


def _refusal(data: bytes, reason: str) -> NotificationParseError:
    digest = hashlib.sha256(data).hexdigest()[:16]
    return NotificationParseError(f"{reason} ({len(data)} bytes, sha256 {digest}…)")


def _new_parser() -> Any:
    # A fresh parser per document: lxml parsers keep an error log and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )


def _wrap(data: bytes) -> bytes:
    prolog = _PROLOG.match(data)
    end = prolog.end() if prolog else 0
    return data[:end] + _WRAPPER_OPEN + data[end:] + _WRAPPER_CLOSE


def _try_parse(data: bytes) -> tuple[Any, list[Any]]:
    """The root element, or None and this run's libxml2 errors."""
    # The exception's own error_log is thread-global and still holds earlier documents' errors;
    # the parser's log holds only this run's.
    parser = _new_parser()
    try:
        return etree.fromstring(data, parser), []
    except (etree.LxmlError, ValueError):
        return None, list(parser.error_log)


def _syntax_reason(errors: list[Any]) -> str:
    # libxml2's messages quote tag names from the payload, so only the error type and position
    # are reported.
    if not errors:
        return "malformed XML"
    last = errors[-1]
    return f"malformed XML: {last.type_name} at line {last.line}, column {last.column}"


def _parse_root(xml: bytes, *, force_wrap: bool = False) -> Any:
    if not isinstance(xml, bytes | bytearray | memoryview):
        raise NotificationParseError(f"XML payload must be bytes, not {type(xml)!r}")
    data = bytes(xml)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise _refusal(data, f"payload exceeds the {MAX_PAYLOAD_BYTES}-byte limit")
    if _FORBIDDEN.search(data):
        raise _refusal(data, "payload declares a DTD or entity, which is never accepted")
    root, errors = _try_parse(_wrap(data) if force_wrap else data)
    if root is None and errors and not force_wrap and all(map(_undeclared_prefix, errors)):
        # A fragment pasted without its namespace declarations (INDEX.md "fragment" form).
        root, errors = _try_parse(_wrap(data))
    if root is None:
        raise _refusal(data, _syntax_reason(errors))
    # Defence in depth: a DTD in an encoding the byte check cannot see (UTF-16) is caught here.
    if root.getroottree().docinfo.doctype:
        raise _refusal(data, "payload declares a DTD, which is never accepted")
    return root


def _undeclared_prefix(error: Any) -> bool:
    return bool(error.type_name == "NS_ERR_UNDEFINED_NAMESPACE")


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _elements(root: Any) -> Iterator[Any]:
    # Passing etree.Element skips processing instructions and entity nodes.
    return iter(root.iter(etree.Element))


def _child(parent: Any, name: str) -> Any:
    if parent is None:
        return None
    for child in parent.iterchildren(etree.Element):
        if _local(child.tag) == name:
            return child
    return None


def _attribute(element: Any, name: str) -> str | None:
    if element is None:
        return None
    for key, value in element.items():
        if _local(key) == name:
            return str(value)
    return None


def _notification_elements(root: Any) -> list[Any]:
    found = []
    for element in _elements(root):
        if _local(element.tag) != "NotificationMessage":
            continue
        # A NotificationMessage nested in another one (e.g. inside an ElementItem) is payload.
        if not any(_local(a.tag) == "NotificationMessage" for a in element.iterancestors()):
            found.append(element)
    return found


def _from_notification_element(element: Any) -> Notification:
    topic_element = _child(element, "Topic")
    topic = "".join(topic_element.itertext()) if topic_element is not None else ""
    holder = _child(element, "Message")
    message = _child(holder, "Message")
    # Some firmware puts Source/Data straight under wsnt:Message without a tt:Message.
    return _from_message_element(topic, message if message is not None else holder)


def _from_message_element(topic: str, message: Any) -> Notification:
    data = _child(message, "Data")
    return Notification(
        topic=clean_topic(topic),
        operation=parse_operation(_attribute(message, "PropertyOperation")),
        utc_time=parse_utc_time(_attribute(message, "UtcTime")),
        source=_xml_simple_items(_child(message, "Source")),
        key=_xml_simple_items(_child(message, "Key")),
        data=_xml_simple_items(data),
        elements=_xml_element_items(data),
    )


def _xml_simple_items(section: Any) -> Items:
    if section is None:
        return ()
    items = []
    for child in section.iterchildren(etree.Element):
        if _local(child.tag) != "SimpleItem":
            continue
        value = _attribute(child, "Value")
        items.append(
            (_attribute(child, "Name") or "", value if value is not None else _text(child))
        )
    return tuple(items[:MAX_ITEMS])


def _xml_element_items(section: Any) -> Items:
    if section is None:
        return ()
    items = []
    for child in section.iterchildren(etree.Element):
        if _local(child.tag) == "ElementItem":
            items.append((_attribute(child, "Name") or "", _element_content(child)))
    return tuple(items[:MAX_ITEMS])


def _text(element: Any) -> str:
    return "".join(element.itertext()).strip()


def _element_content(item: Any) -> str:
    children = list(item.iterchildren(etree.Element))
    if not children:
        return _text(item)
    return "".join(_serialize(child) for child in children)


def _serialize(element: Any) -> str:
    return str(etree.tostring(element, encoding="unicode", with_tail=False))


def _is_element(value: object) -> bool:
    return isinstance(value, etree._Element)


def _zeep_topic(topic: object) -> str:
    if isinstance(topic, Mapping):
        topic = topic.get("_value_1")
    if _is_element(topic):
        topic = _text(topic)
    return clean_topic(topic) if isinstance(topic, str) else ""


def _zeep_list(section: object, name: str) -> list[Mapping[str, Any]]:
    if not isinstance(section, Mapping):
        return []
    items = section.get(name)
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list | tuple):
        return []
    return [item for item in items[:MAX_ITEMS] if isinstance(item, Mapping)]


def _zeep_str(value: object) -> str:
    return "" if value is None else str(value)


def _zeep_simple_items(section: object) -> Items:
    return tuple(
        (_zeep_str(item.get("Name")), _zeep_str(item.get("Value")))
        for item in _zeep_list(section, "SimpleItem")
    )


def _zeep_element_items(section: object) -> Items:
    items = []
    for item in _zeep_list(section, "ElementItem"):
        content = item.get("_value_1")
        # The JSON samples hold the embedded XML as a string; live zeep hands over an element.
        raw = _serialize(content) if _is_element(content) else _zeep_str(content)
        items.append((_zeep_str(item.get("Name")), raw))
    return tuple(items)
