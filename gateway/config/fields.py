"""The config's building blocks: text and host validators, and the base of every section."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Shell and URL-handler syntax that has no business in a name or option; refusing it early means
# no later component can be tricked into passing it on (SECURITY.md, threat 3).
_HOSTILE = re.compile(r"\$\(|`|^\s*(exec|file|javascript):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+$")
_ICE_URL = re.compile(r"^(stun|stuns|turn|turns):[^\s/?#@]+(\?transport=(udp|tcp))?$")


def safe_text(value: str) -> str:
    """`value` if it holds no control characters, shell or URL-handler syntax."""
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    if _HOSTILE.search(value):
        raise ValueError(
            "shell or URL-handler syntax ($(…), backticks, exec:, file:) is not allowed"
        )
    return value


def host_name(value: str) -> str:
    """`value` if it is a host name or an IP address."""
    if _HOSTNAME.match(value) or (":" in value and _IPV6.match(value)):
        return value
    raise ValueError("must be a host name or an IP address")


def expand_home(value: Path) -> Path:
    """`value` with a leading ~ expanded."""
    try:
        return value.expanduser()
    except RuntimeError:  # `~name/…` for a user this machine does not have
        raise ValueError(f"{str(value).split('/')[0]} is not a user on this machine") from None


def _ice_url(value: str) -> str:
    if not _ICE_URL.match(value):
        raise ValueError("must be stun:, stuns:, turn: or turns: host[:port][?transport=udp|tcp]")
    return value


SafeText = Annotated[str, AfterValidator(safe_text)]
IceUrl = Annotated[str, Field(max_length=256), AfterValidator(_ice_url)]
HostName = Annotated[str, AfterValidator(host_name)]


def _host_or_empty(value: str) -> str:
    return value if value == "" else host_name(value)


HostOrEmpty = Annotated[str, AfterValidator(_host_or_empty)]
"""A host name, or '' where the host is optional (a driver that needs none)."""


def _safe_option(value: str | int | float | bool) -> str | int | float | bool:
    return safe_text(value) if isinstance(value, str) else value


OptionValue = Annotated[str | int | float | bool, AfterValidator(_safe_option)]


class Section(BaseModel):
    """Base of every config section: frozen, and an unknown key is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def default_data_dir() -> Path:
    """The XDG data directory for Doorstep (`~/.local/share/doorstep` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "doorstep"
