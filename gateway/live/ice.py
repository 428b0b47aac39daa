"""Which local addresses WebRTC offers as host candidates.

aioice (under aiortc) offers every interface it finds — Docker bridges, VPNs, IPv6 — and skips
loopback. Doorstep offers only the addresses it is configured with (SECURITY.md threat 17);
with none configured, aioice's own choice stands.
"""

from __future__ import annotations

import aioice.ice

_original = aioice.ice.get_host_addresses


def restrict_host_addresses(addresses: list[str]) -> None:
    """Offer only `addresses` (empty: every interface, as aioice would)."""
    if not addresses:
        aioice.ice.get_host_addresses = _original
        return
    chosen = list(addresses)

    def configured(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = configured
