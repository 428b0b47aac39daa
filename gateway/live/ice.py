"""Which local addresses WebRTC offers as host candidates, per peer connection.

aioice (under aiortc) offers every interface it finds — Docker bridges, VPNs, IPv6 — and skips
loopback. Doorstep offers only the addresses it is configured with (SECURITY.md threat 17);
with none configured, aioice's own choice stands.

aioice has no per-connection setting: it looks `aioice.ice.get_host_addresses` up when it
gathers. So the choice travels in a context variable, set around one peer connection's
gathering, and a dispatcher stands in for aioice's function only while such a gathering runs:
two gateways in one process keep their own addresses, and aioice is itself again after.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import aioice.ice

_original = aioice.ice.get_host_addresses
_chosen: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "doorstep_host_addresses", default=None
)
_gathering = 0
"""Gatherings in progress that chose their addresses (the dispatcher is installed while > 0)."""


def _dispatch(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = _chosen.get()
    if chosen is None:  # a peer connection that chose nothing (or not ours): aioice's choice
        return _original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


@contextlib.contextmanager
def host_addresses(addresses: list[str]) -> Iterator[None]:
    """Within this block (and the tasks it starts), aioice gathers only `addresses` (empty:
    every interface, as aioice would). Wrap one peer connection's `setLocalDescription`."""
    global _gathering  # noqa: PLW0603  # one dispatcher per process, counted
    if not addresses:
        yield
        return
    token = _chosen.set(tuple(addresses))
    _gathering += 1
    aioice.ice.get_host_addresses = _dispatch
    try:
        yield
    finally:
        _gathering -= 1
        if _gathering == 0:
            aioice.ice.get_host_addresses = _original
        _chosen.reset(token)


def aioice_is_original() -> bool:
    """Whether aioice's own address lookup is in place (no gathering of ours is running)."""
    return aioice.ice.get_host_addresses is _original
