"""A bounded mDNS (zeroconf) browse: which services of some types are announced on given
interfaces, resolved to an address, a port and their TXT properties.

What a service means (a camera? which driver adopts it?) is the caller's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from zeroconf import DNSQuestionType, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

RESOLVE_TIMEOUT_MS = 2000
MAX_SERVICES = 256


@dataclass(frozen=True, slots=True)
class Announcement:
    """One resolved service: `name` is the full instance name (`Lamp 77._hap._tcp.local.`)."""

    service_type: str
    name: str
    host: str
    port: int | None
    properties: Mapping[bytes, bytes | None]


async def browse(
    service_types: Iterable[str], interfaces: Iterable[str], listen_s: float
) -> list[Announcement]:
    """Services of `service_types` announced on `interfaces` within `listen_s` seconds (IPv4;
    nothing is sent without an interface)."""
    addresses = list(interfaces)
    types = list(service_types)
    if not addresses or not types:
        return []
    zeroconf = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)
    seen: list[tuple[str, str]] = []

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Added and len(seen) < MAX_SERVICES:
            seen.append((service_type, name))

    # Every query multicast (QM), the first too: a QU query's unicast answer goes to port 5353 on
    # this host, where the kernel hands it to any one socket bound there (avahi's, another
    # browser's), so answers came only with the second query, a second later.
    browser = AsyncServiceBrowser(
        zeroconf.zeroconf, types, handlers=[on_change], question_type=DNSQuestionType.QM
    )
    try:
        await asyncio.sleep(listen_s)
        results = await asyncio.gather(*(_resolve(zeroconf, t, n) for t, n in seen))
    finally:
        with contextlib.suppress(Exception):
            await browser.async_cancel()
        await zeroconf.async_close()
    return [found for found in results if found is not None]


async def _resolve(zeroconf: AsyncZeroconf, service_type: str, name: str) -> Announcement | None:
    info = AsyncServiceInfo(service_type, name)
    if not await info.async_request(zeroconf.zeroconf, RESOLVE_TIMEOUT_MS):
        return None
    hosts = info.parsed_addresses(IPVersion.V4Only)
    if not hosts:
        return None
    return Announcement(service_type, name, hosts[0], info.port, dict(info.properties or {}))
