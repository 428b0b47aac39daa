"""Discovery through the SDK's `Discoverer`: the core asks every driver that can discover and
merges what they found by stable id; a driver that fails or hangs does not cost the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from doorstep.drivers.onvif import OnvifDriver
from doorstep.drivers.rtsp import RtspDriver
from doorstep.gateway.discovery import discover, split_target
from doorstep.sdk import (
    API_VERSION,
    DeviceConfig,
    DiscoveredDevice,
    DiscoveryScope,
    DriverContext,
)
from doorstep.simulator import Simulator


class VendorDriver:
    """A third-party driver that finds its own devices (here: one it knows from its cloud)."""

    name = "vendor"
    api_version = API_VERSION

    def __init__(self) -> None:
        self.scopes: list[DiscoveryScope] = []

    def create(self, config: DeviceConfig, context: DriverContext) -> object:
        raise NotImplementedError

    async def discover(self, scope: DiscoveryScope) -> Sequence[DiscoveredDevice]:
        self.scopes.append(scope)
        return [
            DiscoveredDevice(driver="vendor", host="192.0.2.7", port=8000, found_by="vendor-cloud")
        ]


class BrokenDriver(VendorDriver):
    """A discoverer with a bug."""

    name = "broken"

    async def discover(self, scope: DiscoveryScope) -> Sequence[DiscoveredDevice]:
        raise KeyError("bug")


async def test_every_discoverer_is_asked_and_the_answers_merged(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    vendor = VendorDriver()
    target = f"127.0.0.1:{simulator.discovery_port}"
    with caplog.at_level(logging.WARNING, "doorstep.gateway.discovery"):
        found = await discover(
            [target], [], 0.5, False, drivers=[OnvifDriver(), RtspDriver(), BrokenDriver(), vendor]
        )
    assert sorted((d.driver, d.name or d.found_by) for d in found) == [
        ("onvif", "camera-1"), ("onvif", "doorbell-1"), ("vendor", "vendor-cloud"),
    ]  # fmt: skip
    assert found[-1].host == "192.0.2.7"  # in address order
    assert vendor.scopes == [
        DiscoveryScope(targets=(("127.0.0.1", simulator.discovery_port),), listen_s=0.5)
    ]
    broken = [r for r in caplog.records if "broken" in r.getMessage()]
    assert len(broken) == 1
    assert "KeyError" in broken[0].getMessage()


async def test_the_same_endpoint_is_listed_once(simulator: Simulator) -> None:
    endpoint = simulator.devices["doorbell-1"].profile.endpoint
    target = f"127.0.0.1:{simulator.discovery_port}"
    first = await discover([target], [], 0.5, False, drivers=[OnvifDriver()])
    twice = await discover([target], [], 0.5, False, drivers=[OnvifDriver(), OnvifDriver()])
    assert [d.unique_id for d in twice] == [d.unique_id for d in first]
    assert len({d.unique_id for d in first}) == 2
    assert any(d.endpoint == endpoint for d in first)


async def test_a_hanging_discoverer_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hanging(VendorDriver):
        name = "hanging"

        async def discover(self, scope: DiscoveryScope) -> Sequence[DiscoveredDevice]:
            await asyncio.Event().wait()
            return []

    monkeypatch.setattr("doorstep.gateway.discovery.GRACE_S", 0.2)
    found = await discover([], [], 0.1, False, drivers=[Hanging(), VendorDriver()])
    assert [d.found_by for d in found] == ["vendor-cloud"]


def test_targets_keep_their_forms() -> None:
    assert split_target("10.0.0.5") == ("10.0.0.5", None)
    assert split_target("10.0.0.5:3703") == ("10.0.0.5", 3703)
    assert split_target("[fe80::1]:3702") == ("fe80::1", 3702)
    assert split_target("[fe80::1]") == ("fe80::1", None)
    assert split_target("fe80::1") == ("fe80::1", None)
