"""Finding ONVIF devices: WS-Discovery probes for ONVIF's types, and mDNS hints.

WS-Discovery answers name the device's ONVIF port and carry ONVIF scopes (name, hardware).
ONVIF defines no mDNS service type, so mDNS gives hints only: Axis and DoorBird announce
`_axis-video._tcp`, HomeKit cameras and doorbells `_hap._tcp` with category 17 or 18, and an
ONVIF device may live at that address (on port 80, most often). On a host WS-Discovery found
already, a hint only adds to `found_by`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from doorstep.protocols import mdns, wsdiscovery
from doorstep.protocols.wsdiscovery import ProbeMatch, ProbeTarget, ProbeType
from doorstep.sdk import DiscoveredDevice, DiscoveryScope

ONVIF_TYPES = (
    ProbeType("dn", "http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter"),
    ProbeType("tds", "http://www.onvif.org/ver10/device/wsdl", "Device"),
)
AXIS_VIDEO = "_axis-video._tcp.local."
HOMEKIT = "_hap._tcp.local."
HOMEKIT_CAMERA_CATEGORIES = frozenset({b"17", b"18"})  # IP camera, video doorbell
ONVIF_PORT_GUESS = 80  # mDNS gives the service's port, not ONVIF's; most cameras use 80
DRIVER = "onvif"


def _scope_value(scopes: Iterable[str], key: str) -> str | None:
    prefix = f"onvif://www.onvif.org/{key}/"
    for scope in scopes:
        if scope.startswith(prefix):
            value = scope[len(prefix) :].replace("_", " ").replace("%20", " ").strip()
            return value[:256] or None
    return None


def device_of(match: ProbeMatch) -> DiscoveredDevice:
    """A WS-Discovery answer as a device this driver can adopt."""
    return DiscoveredDevice(
        driver=DRIVER,
        host=match.host,
        port=match.port,
        endpoint=match.endpoint,
        name=_scope_value(match.scopes, "name"),
        hardware=_scope_value(match.scopes, "hardware"),
        found_by="ws-discovery",
        scopes=match.scopes,
    )


async def probe(
    targets: Iterable[ProbeTarget] = (), interfaces: Iterable[str] = (), listen_s: float = 3.0
) -> list[DiscoveredDevice]:
    """ONVIF devices answering WS-Discovery: unicast to `targets`, multicast from `interfaces`."""
    matches = await wsdiscovery.probe(ONVIF_TYPES, targets, interfaces, listen_s)
    return [device_of(match) for match in matches]


def _text(value: bytes | None, limit: int = 256) -> str | None:
    if not value:
        return None
    return value.decode("utf-8", "replace").strip()[:limit] or None


def hint_of(found: mdns.Announcement) -> DiscoveredDevice | None:
    """An mDNS announcement as a hint of an ONVIF device; None for a lamp or a lock."""
    properties = found.properties
    if found.service_type == HOMEKIT and properties.get(b"ci") not in HOMEKIT_CAMERA_CATEGORIES:
        return None
    label = found.name.removesuffix("." + found.service_type).strip()[:256] or None
    hardware = (
        _text(properties.get(b"md"))
        if found.service_type == HOMEKIT
        else (label.split(" - ")[0] if label else None)
    )
    return DiscoveredDevice(
        driver=DRIVER,
        host=found.host,
        port=ONVIF_PORT_GUESS,
        endpoint=f"mdns:{found.name}"[:512],
        name=label,
        hardware=hardware,
        found_by="mdns",
    )


async def mdns_hints(interfaces: Iterable[str], listen_s: float) -> list[DiscoveredDevice]:
    """Camera-like services announced on `interfaces` within `listen_s` seconds."""
    announced = await mdns.browse((AXIS_VIDEO, HOMEKIT), interfaces, listen_s)
    return [hint for found in announced if (hint := hint_of(found)) is not None]


def merge_hints(
    probed: Sequence[DiscoveredDevice], hints: Sequence[DiscoveredDevice]
) -> list[DiscoveredDevice]:
    """One entry per host, WS-Discovery's preferred (it knows the ONVIF port)."""
    merged = {(d.host, d.port): d for d in probed}
    probed_hosts = {d.host for d in probed}
    for hint in hints:
        if hint.host in probed_hosts:
            for key, device in merged.items():
                if device.host == hint.host:
                    merged[key] = device.model_copy(update={"found_by": "ws-discovery+mdns"})
        else:
            merged.setdefault((hint.host, hint.port), hint)
    return sorted(merged.values(), key=lambda d: (d.host, d.port))


async def discover(scope: DiscoveryScope) -> list[DiscoveredDevice]:
    """What `OnvifDriver.discover` finds: WS-Discovery, plus mDNS hints when the scope allows."""
    targets = [ProbeTarget(host, port or wsdiscovery.WSD_PORT) for host, port in scope.targets]
    probed, hints = await asyncio.gather(
        probe(targets, scope.interfaces, scope.listen_s),
        mdns_hints(scope.interfaces, scope.listen_s) if scope.mdns else asyncio.sleep(0, []),
    )
    return merge_hints(probed, hints)
