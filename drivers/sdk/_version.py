"""The driver API's version policy and the SDK's deprecation warnings.

A driver declares the `API_VERSION` it was built against. The gateway loads it when the majors
are equal and the driver's minor is not newer than the gateway's: a driver built against 1.0
loads on a 1.3 gateway (minors only add), not on 2.x (a major removes or changes); a driver
built against 1.4 is refused by a 1.3 gateway, since it may use what 1.3 lacks. An old-style
integer `api_version = 1` (the 1.0 SDK's form) means 1.0 and is deprecated.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple


class ApiVersion(NamedTuple):
    """A driver API version: `major` must match the gateway's, `minor` may be older."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


API_VERSION = ApiVersion(1, 1)
"""The driver API this SDK offers; a factory sets `api_version = API_VERSION`."""


def api_version_problem(declared: object, offered: ApiVersion = API_VERSION) -> str | None:
    """Why a driver declaring `declared` cannot load on a gateway offering `offered`, or None."""
    if isinstance(declared, bool) or not isinstance(declared, int | tuple):
        return f"api_version must be doorstep.sdk.API_VERSION, not {declared!r}"
    if isinstance(declared, int):
        declared = (declared, 0)
    if len(declared) != 2 or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in declared
    ):
        return f"api_version must be doorstep.sdk.API_VERSION, not {declared!r}"
    version = ApiVersion(*declared)
    if version.major != offered.major:
        return f"written for driver API {version}, this gateway offers {offered} (majors differ)"
    if version.minor > offered.minor:
        return (
            f"written for driver API {version}, newer than this gateway's {offered}: "
            "update Doorstep"
        )
    return None


_warned: set[str] = set()


def deprecated(what: str, *, since: str, instead: str) -> None:
    """Emit one `DeprecationWarning` per process for `what` (a name or a usage) of the SDK.

    The gateway logs these when it loads a driver; a deprecated thing keeps working until the
    next major version.
    """
    if what in _warned:
        return
    _warned.add(what)
    warnings.warn(
        f"{what} is deprecated since driver API {since}; use {instead}",
        DeprecationWarning,
        stacklevel=3,
    )
