"""Camera-supplied URLs are hostile until checked: each must point at the camera's own host."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from doorstep.sdk import ProtocolError

_DOUBLED_PORT = re.compile(r"^(?P<host>\[[^\]]+\]|[^:/]+):(?P<port>\d+):(?P=port)$")
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254"})


def _same_host(a: str, b: str) -> bool:
    a, b = a.strip("[]").lower(), b.strip("[]").lower()
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def on_host(url: str, camera_host: str) -> bool:
    """Whether `url` points at `camera_host` (and at no cloud metadata address)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host not in METADATA_ADDRESSES and _same_host(host, camera_host)


def pin_url(url: str | None, camera_host: str, schemes: frozenset[str], what: str) -> str:
    """Return `url` if it is a `schemes` URL on `camera_host`; else raise ProtocolError.

    Firmware quirks that are fixed on the way: a doubled port (`host:8106:8106`) and an
    unbracketed IPv6 literal are normalised; an empty URL is refused. The error names the host
    the camera tried, never credentials.
    """
    if not url or not url.strip():
        raise ProtocolError(f"the camera gave an empty {what} address")
    url = url.strip()
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]  # user info is never trusted or kept
    doubled = _DOUBLED_PORT.match(netloc)
    if doubled:
        netloc = f"{doubled.group('host')}:{doubled.group('port')}"
    parts = parts._replace(netloc=netloc)
    try:
        host = urlsplit(urlunsplit(parts)).hostname or ""
        _ = urlsplit(urlunsplit(parts)).port  # raises on a garbage port
    except ValueError:
        raise ProtocolError(f"the camera gave an unusable {what} address") from None
    if parts.scheme.lower() not in schemes:
        raise ProtocolError(
            f"the camera gave a {parts.scheme or 'scheme-less'} {what} address; refused"
        )
    if host in METADATA_ADDRESSES or not _same_host(host, camera_host):
        raise ProtocolError(
            f"the camera pointed its {what} at {host or 'nowhere'}, not {camera_host}; refused"
        )
    return urlunsplit(parts)


HTTP = frozenset({"http", "https"})
RTSP = frozenset({"rtsp", "rtsps"})
