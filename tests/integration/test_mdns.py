"""mDNS hints on loopback: an Axis camera and a HomeKit doorbell are found, a HomeKit lamp not."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from doorstep.drivers.onvif import OnvifDriver
from doorstep.drivers.onvif.discovery import AXIS_VIDEO, HOMEKIT, mdns_hints
from doorstep.gateway.discovery import discover
from doorstep.simulator import Simulator

LOOPBACK = socket.inet_aton("127.0.0.1")
ANNOUNCEMENT_PROTECTION_S = 1.1


def service(kind: str, name: str, port: int, properties: dict[str, str]) -> AsyncServiceInfo:
    host = name.split(" ", maxsplit=1)[0].lower()
    return AsyncServiceInfo(
        kind, f"{name}.{kind}", addresses=[LOOPBACK], port=port, properties=properties,
        server=f"{host}.local.",
    )  # fmt: skip


@pytest.fixture
async def announced(loopback_mdns: None) -> AsyncIterator[None]:
    """A second zeroconf instance on loopback announcing three services (multicast stays on lo)."""
    announcer = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    infos = (
        service(AXIS_VIDEO, "AXIS M1065-LW - ACCC8E000001", 80, {"macaddress": "ACCC8E000001"}),
        service(HOMEKIT, "Doorbell 5F2A", 51827, {"ci": "18", "md": "Video Doorbell"}),
        service(HOMEKIT, "Lamp 77", 51828, {"ci": "5", "md": "Bulb"}),
    )
    # Each call returns once its name is probed and answered for (~1 s of probes, so the three
    # at once); the task it returns ends once the announcements are sent: wait for those too.
    announcing = await asyncio.gather(*(announcer.async_register_service(i) for i in infos))
    await asyncio.gather(*announcing)
    # A responder answers a query for a record it multicast less than a second ago only a
    # second later (RFC 6762 section 14; zeroconf's `mcast_aggregate_last_second`): that put
    # the answer at ~1.2 s of a 1.5 s window, past it on a loaded machine. A camera on a real
    # network announced long before anyone browses; so do these before the browse starts.
    await asyncio.sleep(ANNOUNCEMENT_PROTECTION_S)
    yield
    await announcer.async_unregister_all_services()
    await announcer.async_close()


@pytest.mark.usefixtures("announced")
async def test_mdns_hints_merge_with_ws_discovery(simulator: Simulator) -> None:
    found = await discover(
        [f"127.0.0.1:{simulator.discovery_port}"], ["127.0.0.1"], 1.5, mdns=True,
        drivers=[OnvifDriver()],
    )  # fmt: skip
    by_source: dict[str, list[str]] = {}
    for device in found:
        by_source.setdefault(device.found_by, []).append(device.name or "")
    # The simulated devices answer WS-Discovery; on the same host the mDNS hints only add a label.
    assert sorted(by_source["ws-discovery+mdns"]) == ["camera-1", "doorbell-1"]
    assert "Lamp 77" not in {d.name for d in found}
    assert "mdns" not in by_source  # every hint was on a host WS-Discovery already found


@pytest.mark.usefixtures("announced")
async def test_mdns_finds_cameras_and_doorbells_not_lamps() -> None:
    found = {d.name: d for d in await mdns_hints(["127.0.0.1"], 1.5)}
    assert set(found) == {"AXIS M1065-LW - ACCC8E000001", "Doorbell 5F2A"}
    assert found["AXIS M1065-LW - ACCC8E000001"].hardware == "AXIS M1065-LW"
    assert found["Doorbell 5F2A"].hardware == "Video Doorbell"
    assert {d.found_by for d in found.values()} == {"mdns"}
    assert {d.host for d in found.values()} == {"127.0.0.1"}


async def test_mdns_sends_nothing_without_interfaces() -> None:
    assert await mdns_hints([], 0.1) == []
