"""An outgoing webhook's body template: JSON whose string values may hold `${field}` placeholders.

Placeholders are filled with `string.Template.safe_substitute` inside each string value of the
parsed JSON, never by formatting the JSON text (and never with `str.format`, whose attribute
access would let a template reach into the gateway's objects): whatever a camera's name holds,
the body stays valid JSON with the template's shape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from string import Template
from typing import Any

from doorstep.gateway.automation.webhook_fields import FIELD_NAMES, MAX_NAME, FieldValue

MAX_TEMPLATE_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024
"""A rendered body larger than this is not sent (the template is refused if it could be)."""
MAX_DEPTH = 16

DEFAULT_TEMPLATE = """{
  "event_id": "${event_id}",
  "kind": "${kind}",
  "active": "${active}",
  "state": "${state}",
  "text": "${text}",
  "camera_id": "${camera_id}",
  "camera_name": "${camera_name}",
  "occurred_at": "${occurred_at}",
  "received_at": "${received_at}",
  "gateway": "${gateway}"
}"""
"""The body when the owner writes no template: every field, under its own name."""

_WHOLE = re.compile(r"\$(?:\{([_a-z][_a-z0-9]*)\}|([_a-z][_a-z0-9]*))", re.IGNORECASE)
"""A string value that is exactly one placeholder: it takes the field's own JSON value."""
_FIELD_LENGTHS = {
    "event_id": 32,
    "camera_id": 64,
    "camera_name": MAX_NAME,
    "text": MAX_NAME + 64,
    "gateway": 64,
    "kind": 16,
    "state": 8,
    "occurred_at": 24,
    "received_at": 24,
}
"""The longest each text field can be, to bound what a template can grow to."""


class TemplateError(ValueError):
    """The template cannot be used; the message says why, for the owner."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise TemplateError(f"the key {key[:40]!r} appears twice")
        seen[key] = value
    return seen


def _no_constants(name: str) -> None:
    raise TemplateError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise TemplateError(f"the number {text[:20]} is too large")
    return number


def _check(value: Any, depth: int) -> None:
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        raise TemplateError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if Template(key).get_identifiers():
                raise TemplateError(f"placeholders work in values, not in keys ({key[:40]!r})")
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
    elif isinstance(value, str):
        template = Template(value)
        if not template.is_valid():
            raise TemplateError(
                f"a $ that is no placeholder in {value[:40]!r}: write ${{field}}, or $$ for a "
                "dollar sign"
            )
        unknown = sorted(set(template.get_identifiers()) - FIELD_NAMES)
        if unknown:
            known = ", ".join(sorted(FIELD_NAMES))
            raise TemplateError(f"unknown field ${{{unknown[0][:40]}}}; the fields are {known}")


def _text(value: FieldValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _fill(value: Any, fields: Mapping[str, FieldValue], texts: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        whole = _WHOLE.fullmatch(value)
        if whole:
            name = whole.group(1) or whole.group(2)
            if name in fields:
                return fields[name]
        return Template(value).safe_substitute(texts)
    if isinstance(value, dict):
        return {key: _fill(item, fields, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, fields, texts) for item in value]
    return value


class BodyTooLarge(ValueError):
    """A rendered body is over MAX_BODY_BYTES."""


class BodyTemplate:
    """A checked template, parsed once; `render` turns an event's fields into the JSON body."""

    def __init__(self, text: str) -> None:
        """Parse and check `text`; `TemplateError` says what is wrong with it."""
        if len(text.encode("utf-8", "replace")) > MAX_TEMPLATE_BYTES:
            raise TemplateError(f"the template is larger than {MAX_TEMPLATE_BYTES // 1024} KiB")
        try:
            value = json.loads(
                text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants,
                parse_float=_finite,
            )  # fmt: skip
        except TemplateError:
            raise
        except json.JSONDecodeError as exc:
            raise TemplateError(
                f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except (ValueError, RecursionError):  # an integer of thousands of digits, deep nesting
            raise TemplateError("not JSON this gateway can send (too deep or too large)") from None
        _check(value, 0)
        self.text = text
        self._value = value
        longest = {name: "\x00" * length for name, length in _FIELD_LENGTHS.items()}
        # A control character takes six bytes in JSON (\u0000): the largest body it can make.
        try:
            self.render({**longest, "active": False})
        except BodyTooLarge:
            raise TemplateError(
                f"the body could grow past {MAX_BODY_BYTES // 1024} KiB: use fewer placeholders"
            ) from None

    def render(self, fields: Mapping[str, FieldValue]) -> bytes:
        """The body for these fields: compact UTF-8 JSON; `BodyTooLarge` past MAX_BODY_BYTES."""
        texts = {name: _text(value) for name, value in fields.items()}
        body = json.dumps(
            _fill(self._value, fields, texts), ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8", "replace")  # a lone surrogate becomes "?"; the JSON stays valid
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the body is {len(body)} bytes")
        return body


def check_template(text: str | None) -> BodyTemplate:
    """The template for `text` (None: the default one); `TemplateError` when it is unusable."""
    return BodyTemplate(DEFAULT_TEMPLATE if text is None else text)
