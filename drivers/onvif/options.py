"""The ONVIF driver's per-camera options (the `options:` mapping of a camera in the config)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from doorstep.sdk import DriverOptions


def _token(value: object) -> object:
    # YAML reads `doorbell_input: 1` as a number; the input's token is text on the wire.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class OnvifOptions(DriverOptions):
    """What an owner may set for one ONVIF camera; an unknown or bad option disables it."""

    motion_auto_clear_s: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="Report motion as over this long after it started, for cameras that never "
        "send the 'off'; 0 never clears.",
    )
    events: Literal["auto", "push", "pullpoint"] = Field(
        default="auto",
        description="'pullpoint' polls only; 'auto' (or 'push') tries callbacks first.",
    )
    doorbell_input: Annotated[str | None, BeforeValidator(_token)] = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The digital input (its token or port, e.g. '1') wired to the call button "
        "of a door station: its presses are reported as the doorbell.",
    )
