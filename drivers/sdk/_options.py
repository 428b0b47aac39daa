"""Typed driver options: a factory's `options_model`, and whether it needs a `host`.

A factory may declare two optional class attributes besides the `DriverFactory` protocol:

    options_model = MyOptions   # a `DriverOptions` subclass (pydantic, extra="forbid")
    needs_host = False          # default True: the camera's `host` is required

The gateway validates each camera's `options` with `options_model` when it loads the config
(`doorstep check-config` too), when a camera is adopted, and before each `create()`. A camera
with an invalid option is disabled with the reason; it is not retried. Without an
`options_model`, options reach the driver unchecked (the 1.0 behaviour).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from doorstep.sdk._errors import Unsupported
from doorstep.sdk._models import DeviceConfig


class DriverOptions(BaseModel):
    """Base of a driver's options model: frozen, and an unknown option is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def options_model_of(factory: object) -> type[BaseModel] | None:
    """The factory's options model, None if it declares none; TypeError if it is no model."""
    model = getattr(factory, "options_model", None)
    if model is None:
        return None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"options_model must be a pydantic model class, not {model!r}")
    if model.model_config.get("extra") != "forbid":
        raise TypeError(f"options_model {model.__name__} must forbid extra fields (extra='forbid')")
    return model


def needs_host(factory: object) -> bool:
    """Whether the factory's cameras need a `host` (its `needs_host`, True by default)."""
    return bool(getattr(factory, "needs_host", True))


def option_problems(factory: object, options: Mapping[str, object]) -> list[tuple[str, str]]:
    """Every problem with `options` for this factory, as (option name, message) pairs."""
    model = options_model_of(factory)
    if model is None:
        return []
    try:
        model.model_validate(dict(options))
    except ValidationError as exc:
        return [(".".join(str(part) for part in err["loc"]), err["msg"]) for err in exc.errors()]
    return []


def read_options(model: type[OptionsT], config: DeviceConfig) -> OptionsT:
    """The device's options parsed with `model`; `Unsupported` naming each bad option."""
    try:
        return model.model_validate(dict(config.options))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'options'}: {err['msg']}"
            for err in exc.errors()
        )
        raise Unsupported(f"invalid driver options: {problems}") from None
