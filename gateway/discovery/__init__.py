"""Finding cameras on the network: every driver that can discover (`doorstep.sdk.Discoverer`)
probes where the config allows, and their answers are merged into one list.

The core knows no discovery protocol: the ONVIF driver brings WS-Discovery and mDNS hints, a
vendor driver its own. A driver that fails is logged and skipped; the others still answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from doorstep.sdk import DiscoveredDevice, Discoverer, DiscoveryScope, DriverFactory

_log = logging.getLogger(__name__)

MAX_DEVICES = 1024
GRACE_S = 5.0
"""A discoverer gets its listen time plus this to answer (resolving, closing sockets)."""


def split_target(text: str) -> tuple[str, int | None]:
    """A configured target: `host`, `host:port` or `[v6]:port` (None: the protocol's port)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return host.rstrip("]"), int(port) if port else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, None


async def _ask(factory: DriverFactory, scope: DiscoveryScope) -> Sequence[DiscoveredDevice]:
    if not isinstance(factory, Discoverer):
        return []
    try:
        return await asyncio.wait_for(factory.discover(scope), scope.listen_s + GRACE_S)
    except TimeoutError:
        _log.warning("driver %s: discovery did not finish in time; skipped", factory.name)
    except Exception as exc:  # a third-party driver may fail in any way; the others answer
        _log.warning("driver %s: discovery failed: %s: %s", factory.name, type(exc).__name__, exc)
    return []


async def discover(
    targets: Iterable[str],
    interfaces: Iterable[str],
    listen_s: float,
    mdns: bool,
    *,
    drivers: Iterable[DriverFactory],
) -> list[DiscoveredDevice]:
    """Ask every discovering driver at once; one entry per stable id, in address order.

    Unicast to `targets`, multicast from `interfaces`, mDNS hints with `mdns`; with no target
    and no interface nothing is sent.
    """
    scope = DiscoveryScope(
        targets=tuple(split_target(t) for t in targets),
        interfaces=tuple(interfaces),
        listen_s=listen_s,
        mdns=mdns,
    )
    answers = await asyncio.gather(*(_ask(f, scope) for f in drivers))
    merged: dict[str, DiscoveredDevice] = {}
    for devices in answers:
        for device in devices:
            if len(merged) >= MAX_DEVICES:
                break
            # The SDK's stable id: the device's own id, its endpoint reference, or its address.
            merged.setdefault(device.unique_id, device)
    return sorted(merged.values(), key=lambda d: (d.host, d.port, d.driver))


__all__ = ["discover", "split_target"]
