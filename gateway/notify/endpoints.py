"""Which push endpoints the gateway will POST to, and checks of a subscription's keys.

The endpoint comes from a browser and the gateway sends to it, so an unchecked one would let
any resident make the gateway call hosts on the LAN (SSRF): only https URLs on the browsers'
real push services, plus hosts and origins the owner wrote into `push.allowed_endpoint_hosts`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from yarl import URL

DEFAULT_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, most Chromium browsers
    "updates.push.services.mozilla.com",  # Firefox
    "*.push.services.mozilla.com",
    "web.push.apple.com",  # Safari on macOS, and iOS/iPadOS apps added to the home screen
    "*.notify.windows.com",  # Edge on Windows (WNS)
)
MAX_ENDPOINT = 1024
"""The push services' endpoints are 150-500 characters."""
MAX_KEY = 128
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class EndpointRefused(ValueError):
    """A subscription the gateway will not send to; the message says why, for the browser."""


def _unb64url(text: str, what: str) -> bytes:
    if len(text) > MAX_KEY or not _B64URL.match(text):
        raise EndpointRefused(f"{what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise EndpointRefused(f"{what} is not base64url") from None


def check_keys(p256dh: str, auth: str) -> None:
    """Refuse keys that cannot encrypt a message: a P-256 point and a 16-byte secret."""
    point = _unb64url(p256dh, "keys.p256dh")
    if len(point) != 65 or point[0] != 4:
        raise EndpointRefused("keys.p256dh must be an uncompressed P-256 public key")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise EndpointRefused("keys.p256dh is not a point on P-256") from None
    if len(_unb64url(auth, "keys.auth")) != 16:
        raise EndpointRefused("keys.auth must be 16 bytes")


@dataclass(frozen=True, slots=True)
class EndpointPolicy:
    """The push services a subscription may name: https hosts (a `*.` wildcard covers
    subdomains) on port 443, and exact origins (`https://host:port`, `http://127.0.0.1:port`)."""

    hosts: frozenset[str]
    suffixes: tuple[str, ...]
    origins: frozenset[str]

    @classmethod
    def of(cls, extra: Iterable[str] = ()) -> EndpointPolicy:
        """The browsers' push services plus `extra` (already validated by the config)."""
        hosts, suffixes, origins = set(), [], set()
        for entry in (*DEFAULT_HOSTS, *extra):
            if "://" in entry:
                origins.add(str(URL(entry).origin()))
            elif entry.startswith("*."):
                suffixes.append(entry[1:])  # ".push.services.mozilla.com"
            else:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(suffixes), frozenset(origins))

    def check(self, endpoint: str) -> URL:
        """The endpoint as a URL if the gateway may send to it; `EndpointRefused` otherwise."""
        if len(endpoint) > MAX_ENDPOINT:
            raise EndpointRefused(f"the endpoint is longer than {MAX_ENDPOINT} characters")
        if not endpoint.isascii() or any(c.isspace() or ord(c) < 32 for c in endpoint):
            raise EndpointRefused("the endpoint must be a plain ASCII URL")
        try:
            url = URL(endpoint)
            host = (url.host or "").lower()
            port = url.port
        except ValueError:
            raise EndpointRefused("the endpoint is not a URL") from None
        if not url.absolute or url.user is not None or url.password is not None or url.fragment:
            raise EndpointRefused("the endpoint must be an absolute URL without credentials")
        if url.scheme in ("http", "https") and str(url.origin()).lower() in self.origins:
            return url
        if url.scheme != "https":
            raise EndpointRefused("the endpoint must use https")
        if port != 443:
            raise EndpointRefused("the endpoint must use the standard https port")
        if host in self.hosts or any(
            host.endswith(suffix) and len(host) > len(suffix) for suffix in self.suffixes
        ):
            return url
        raise EndpointRefused(
            f"{host or 'that host'} is not a known push service (the owner can add it to "
            "push.allowed_endpoint_hosts)"
        )


def endpoint_host(endpoint: str) -> str:
    """The host of an endpoint: what logs and the UI may show of it."""
    try:
        return URL(endpoint).host or "?"
    except ValueError:
        return "?"
