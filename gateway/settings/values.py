"""A section's values as plain data: compared, merged, sealed for the database, redacted for
the API.

A *tree* is a section's value as JSON-shaped data (dicts, lists, strings, numbers), with each
secret held as a `Secret` so that no step can mistake it for text to show. It is sealed with the
gateway's SecretBox on its way to the database (`{"$sealed": token}`) and redacted on its way to
the API (`password_set: true` in place of `password`).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, SecretStr

from doorstep.gateway.keys.secretbox import SecretBox

SEALED = "$sealed"
ABSENT_KEY = "$absent"
FLAG_SUFFIX = "_set"
"""`password_set` stands for `password` in what the API shows."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret inside a tree (its repr never shows the value)."""

    value: str

    def __repr__(self) -> str:
        return "Secret(…)"


class _Absent:
    """The file has no value here (an optional section it leaves out)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def tree_of(value: Any) -> Any:  # noqa: PLR0911  # one return per kind of value
    """A model (or any value in one) as a tree."""
    if isinstance(value, BaseModel):
        return {name: tree_of(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, SecretStr):
        return Secret(value.get_secret_value())
    if isinstance(value, list | tuple):
        return [tree_of(item) for item in value]
    if isinstance(value, dict):
        return {str(key): tree_of(item) for key, item in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def as_input(tree: Any) -> Any:
    """A tree as a model validates it (secrets as their text)."""
    if isinstance(tree, Secret):
        return tree.value
    if isinstance(tree, dict):
        return {key: as_input(item) for key, item in tree.items()}
    if isinstance(tree, list):
        return [as_input(item) for item in tree]
    return tree


def secrets_in(tree: Any) -> Iterator[str]:
    """Every secret's text in a tree (to register them for log redaction)."""
    if isinstance(tree, Secret):
        yield tree.value
    elif isinstance(tree, dict):
        for item in tree.values():
            yield from secrets_in(item)
    elif isinstance(tree, list):
        for item in tree:
            yield from secrets_in(item)


def sealed(tree: Any, box: SecretBox) -> Any:
    """A tree as stored: each secret encrypted, ABSENT marked."""
    if tree is ABSENT:
        return {ABSENT_KEY: True}
    if isinstance(tree, Secret):
        return {SEALED: box.seal(tree.value).decode("ascii")}
    if isinstance(tree, dict):
        return {key: sealed(item, box) for key, item in tree.items()}
    if isinstance(tree, list):
        return [sealed(item, box) for item in tree]
    return tree


def unsealed(stored: Any, box: SecretBox) -> Any:
    """A stored tree read back; ValueError if a secret cannot be decrypted or a marker is bad."""
    if isinstance(stored, dict):
        if set(stored) == {ABSENT_KEY}:
            return ABSENT
        if set(stored) == {SEALED}:
            token = stored[SEALED]
            if not isinstance(token, str):
                raise ValueError("a sealed secret is not text")
            return Secret(box.open(token.encode("ascii", "replace")))
        return {key: unsealed(item, box) for key, item in stored.items()}
    if isinstance(stored, list):
        return [unsealed(item, box) for item in stored]
    return stored


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds (`X`, `X | None`, `list[X]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def is_secret(annotation: Any) -> bool:
    """Whether a field holds a secret (`SecretStr` or `SecretStr | None`)."""
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(is_secret(arg) for arg in typing.get_args(annotation))
    return False


def redacted(value: Any) -> Any:
    """A model as the API shows it: each secret field `name` becomes `name_set` (bool)."""
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            if is_secret(info.annotation):
                out[name + FLAG_SUFFIX] = isinstance(item, SecretStr) and bool(
                    item.get_secret_value()
                )
            else:
                out[name] = redacted(item)
        return out
    if isinstance(value, SecretStr):  # a secret where no field declares one: never shown
        return None
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def without_flags(model: type[BaseModel], data: Any) -> Any:
    """A change with the `name_set` flags the API showed taken out again (a form sends back
    what it was given), at every level the model describes."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        if is_secret(info.annotation) and isinstance(out.get(name + FLAG_SUFFIX), bool):
            del out[name + FLAG_SUFFIX]
        if name not in out:
            continue
        for inner in _models_in(info.annotation):
            item = out[name]
            out[name] = (
                [without_flags(inner, element) for element in item]
                if isinstance(item, list)
                else without_flags(inner, item)
            )
    return out


def merged(current: Any, change: Any) -> Any:
    """`change` over `current`: objects merge key by key; lists are replaced, but an object in
    the new list that leaves out a secret keeps the one of the current object it otherwise
    equals (a TURN server sent back as shown keeps its credential)."""
    if isinstance(current, dict) and isinstance(change, dict):
        out = dict(current)
        for key, item in change.items():
            out[key] = merged(current[key], item) if key in current else item
        return out
    if isinstance(current, list) and isinstance(change, list):
        return [_keeping_secret(item, current) for item in change]
    return change


def _keeping_secret(item: Any, current: list[Any]) -> Any:
    if not isinstance(item, dict):
        return item
    for old in current:
        if not isinstance(old, dict):
            continue
        hidden = {key for key, value in old.items() if isinstance(value, Secret)}
        if not hidden or hidden & set(item):
            continue
        if all(item.get(key) == value for key, value in old.items() if key not in hidden):
            return {**item, **{key: old[key] for key in hidden}}
    return item
