"""Finding cameras on the network: WS-Discovery probes and mDNS hints, merged into one list."""

from __future__ import annotations

import asyncio

from doorstep.gateway.discovery.mdns import browse
from doorstep.gateway.discovery.wsdiscovery import ProbeTarget, probe, probe_targets
from doorstep.sdk import DiscoveredDevice


async def discover(
    targets: list[str], interfaces: list[str], listen_s: float, mdns: bool
) -> list[DiscoveredDevice]:
    """WS-Discovery (unicast to `targets`, multicast from `interfaces`) and, with `mdns`, mDNS
    on `interfaces`; one entry per host, WS-Discovery's preferred (it knows the ONVIF port)."""
    found, hinted = await asyncio.gather(
        probe(probe_targets(targets), interfaces, listen_s),
        browse(interfaces, listen_s) if mdns else asyncio.sleep(0, result=[]),
    )
    merged = {(d.host, d.port): d for d in found}
    probed_hosts = {d.host for d in found}
    for hint in hinted:
        if hint.host in probed_hosts:
            for key, device in merged.items():
                if device.host == hint.host:
                    merged[key] = device.model_copy(update={"found_by": "ws-discovery+mdns"})
        else:
            merged.setdefault((hint.host, hint.port), hint)
    return sorted(merged.values(), key=lambda d: (d.host, d.port))


__all__ = ["ProbeTarget", "discover", "probe", "probe_targets"]
