"""What an outgoing webhook rule says (URL, event kinds, cameras, template) and its URL's checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import yarl

from doorstep.gateway.automation.webhook_template import BodyTemplate
from doorstep.gateway.config.fields import host_name
from doorstep.gateway.events import CameraEventReceived
from doorstep.sdk import EventKind

MAX_URL = 2048
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class UrlError(ValueError):
    """The URL cannot be used for an outgoing webhook; the message says why."""


def check_url(url: str) -> str:
    """`url` if it is an http(s) URL a webhook can be sent to; `UrlError` says why not.

    The host is the owner's choice (a LAN address, a public service): only the form is checked.
    Credentials in the user-info part are refused (they would show wherever the URL is shown);
    a token belongs in the path or the query, which the log never shows.
    """
    if len(url) > MAX_URL:
        raise UrlError(f"longer than {MAX_URL} characters")
    if _SPACE_OR_CONTROL.search(url):
        raise UrlError("spaces and control characters are not allowed (percent-encode them)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UrlError("must start with http:// or https://")
    if "@" in parts.netloc:
        raise UrlError("no user name or password in the URL: put a token in its path or query")
    if parts.fragment or url.endswith("#"):
        raise UrlError("a #fragment is never sent: leave it out")
    host = parts.hostname or ""
    try:
        host_name(host)
    except ValueError:
        raise UrlError("the host must be a host name or an IP address") from None
    if port == 0:
        raise UrlError("port 0 is not a port")
    try:
        yarl.URL(url)
    except (ValueError, TypeError) as exc:
        raise UrlError(f"not a URL ({exc})") from None
    return url


def host_of(url: str) -> str:
    """The host (and port, when the URL names one) a URL sends to, for the audit log and the UI."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def loggable_url(url: str) -> str:
    """scheme://host[:port]/path: what the log may show (a query often holds a token)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{host_of(url)}{parts.path}"
    except ValueError:
        return "<invalid URL>"


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """An outgoing webhook rule as the owner sets it (everything but its signing secret)."""

    name: str
    enabled: bool
    url: str
    kinds: frozenset[EventKind]
    cameras: frozenset[str]
    """Camera ids; empty means every camera."""
    include_ends: bool
    template: BodyTemplate

    def matches(self, message: CameraEventReceived) -> bool:
        """Whether this rule sends something for the event (state re-sent on subscribing never)."""
        event = message.event
        return (
            self.enabled
            and not event.initial
            and event.kind in self.kinds
            and (not self.cameras or message.camera_id in self.cameras)
            and (event.active is not False or self.include_ends)
        )
