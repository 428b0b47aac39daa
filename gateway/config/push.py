"""The `push:` section: Web Push to residents' phones (the one thing that leaves the LAN)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from doorstep.gateway.config.fields import Section

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_PATTERN = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_ORIGIN = re.compile(
    rf"^(?P<scheme>https?)://(?P<host>{_LABEL}(\.{_LABEL})*)(:(?P<port>[0-9]{{1,5}}))?$"
)
_CONTACT = re.compile(
    r"^(mailto:[^@\s/]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$"
)


def endpoint_host(value: str) -> str:
    """`value` lower-cased if it is a host (`push.example.org`), a wildcard
    (`*.example.org`: its subdomains) or an origin (`http://127.0.0.1:8123`)."""
    value = value.strip().lower()
    if _HOST_PATTERN.match(value) and len(value) <= 253:
        return value
    match = _ORIGIN.match(value)
    if match:
        port = match.group("port")
        if port is None and match.group("scheme") == "http":
            raise ValueError("an http:// origin needs its port (e.g. http://127.0.0.1:8123)")
        if port is not None and not 1 <= int(port) <= 65535:
            raise ValueError("the port must be 1..65535")
        return value
    raise ValueError(
        "must be a host (push.example.org), a wildcard (*.example.org) or an origin "
        "(https://push.example.org:8443, http://127.0.0.1:8123)"
    )


def _contact(value: str) -> str:
    if not _CONTACT.match(value):
        raise ValueError("must be mailto:you@example.org or https://example.org (no path)")
    return value


EndpointHost = Annotated[str, Field(max_length=270), AfterValidator(endpoint_host)]


class PushConfig(Section):
    """Web Push notifications to residents' phones and browsers.

    A message goes, encrypted end to end, through the push service of the phone's browser
    (Google, Mozilla, Apple or Microsoft), so it leaves the LAN; only devices someone opted in
    receive any, and the owner can turn it off in Settings.
    """

    enabled: bool = Field(
        True,
        title="Enabled",
        description="Allow Web Push at all. Nothing is sent until someone turns notifications "
        "on for a device; the owner can also turn push off at run time in Settings.",
    )
    contact: Annotated[str, Field(max_length=256), AfterValidator(_contact)] = Field(
        "mailto:push@doorstep.invalid",
        title="Contact",
        description="Who push services may contact about this gateway's messages (the VAPID "
        "`sub` claim): `mailto:you@example.org` or `https://example.org`. Apple wants a real one.",
    )
    allowed_endpoint_hosts: list[EndpointHost] = Field(
        default_factory=list,
        max_length=32,
        title="Extra push services",
        description="Push services besides the browsers' own (FCM, Mozilla, Apple, Windows) "
        "that subscriptions may name: a host, `*.domain`, or an origin such as "
        "`https://push.example.org:8443`. Only an origin written here may be plain http.",
    )
