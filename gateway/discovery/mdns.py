"""mDNS hints for cameras (zeroconf): Axis and DoorBird announce `_axis-video._tcp`; HomeKit
cameras and doorbells announce `_hap._tcp` with category 17 or 18. ONVIF defines no mDNS type,
so these are hints that an ONVIF device may live at that address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from doorstep.sdk import DiscoveredDevice

_log = logging.getLogger(__name__)

AXIS_VIDEO = "_axis-video._tcp.local."
HOMEKIT = "_hap._tcp.local."
HOMEKIT_CAMERA_CATEGORIES = frozenset({b"17", b"18"})  # IP camera, video doorbell
RESOLVE_TIMEOUT_MS = 2000
MAX_SERVICES = 256
ONVIF_PORT_GUESS = 80  # mDNS gives the service's port, not ONVIF's; most cameras use 80


def _text(value: bytes | None, limit: int = 256) -> str | None:
    if not value:
        return None
    return value.decode("utf-8", "replace").strip()[:limit] or None


async def browse(interfaces: Iterable[str], listen_s: float) -> list[DiscoveredDevice]:
    """Camera-like services announced on the given interfaces within `listen_s` seconds."""
    addresses = list(interfaces)
    if not addresses:
        return []
    zeroconf = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)
    seen: list[tuple[str, str]] = []

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Added and len(seen) < MAX_SERVICES:
            seen.append((service_type, name))

    browser = AsyncServiceBrowser(zeroconf.zeroconf, [AXIS_VIDEO, HOMEKIT], handlers=[on_change])
    try:
        await asyncio.sleep(listen_s)
        results = await asyncio.gather(*(_resolve(zeroconf, t, n) for t, n in seen))
    finally:
        with contextlib.suppress(Exception):
            await browser.async_cancel()
        await zeroconf.async_close()
    return [device for device in results if device is not None]


async def _resolve(
    zeroconf: AsyncZeroconf, service_type: str, name: str
) -> DiscoveredDevice | None:
    info = AsyncServiceInfo(service_type, name)
    if not await info.async_request(zeroconf.zeroconf, RESOLVE_TIMEOUT_MS):
        return None
    properties = info.properties or {}
    if service_type == HOMEKIT and properties.get(b"ci") not in HOMEKIT_CAMERA_CATEGORIES:
        return None  # a lamp or a lock, not a camera
    hosts = info.parsed_addresses(IPVersion.V4Only)
    if not hosts:
        return None
    label = name.removesuffix("." + service_type).strip()[:256] or None
    hardware = (
        _text(properties.get(b"md"))
        if service_type == HOMEKIT
        else (label.split(" - ")[0] if label else None)
    )
    return DiscoveredDevice(
        driver="onvif",
        host=hosts[0],
        port=ONVIF_PORT_GUESS,
        endpoint=f"mdns:{name}"[:512],
        name=label,
        hardware=hardware,
        found_by="mdns",
    )
