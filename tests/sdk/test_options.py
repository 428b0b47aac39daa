"""Typed driver options: a bad option disables the camera with the reason, never a retry loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from pydantic import Field

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.config.models import CameraConfig, SupervisorConfig, parse_config
from doorstep.gateway.devices.manager import DeviceManager
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.events import CameraState
from doorstep.sdk import (
    API_VERSION,
    DeviceConfig,
    DeviceInfo,
    DriverContext,
    DriverOptions,
    Unsupported,
    read_options,
)


class CountingOptions(DriverOptions):
    """Options of the counting driver."""

    channel: int = Field(1, ge=1, le=16)


class CountingDevice:
    """Connects at once; the test only cares whether it was created."""

    def __init__(self, options: CountingOptions) -> None:
        self.options = options

    async def connect(self) -> DeviceInfo:
        return DeviceInfo(manufacturer="Counting", model=f"channel {self.options.channel}")

    async def close(self) -> None:
        return None


class CountingDriver:
    """A driver that counts `create()` calls and needs no host (a cloud-style device)."""

    name = "counting"
    api_version = API_VERSION
    options_model = CountingOptions
    needs_host = False

    def __init__(self) -> None:
        self.created: list[DeviceConfig] = []

    def create(self, config: DeviceConfig, context: DriverContext) -> CountingDevice:
        self.created.append(config)
        return CountingDevice(read_options(CountingOptions, config))


class HostDriver(CountingDriver):
    """The same, but its cameras need a host (the default)."""

    name = "hosted"
    needs_host = True


BuildManager = Callable[..., DeviceManager]


@pytest.fixture
async def manager_for(tmp_path: Path) -> AsyncIterator[BuildManager]:
    bus = EventBus()
    managers: list[DeviceManager] = []
    async with aiohttp.ClientSession() as http:

        def build(registry: DriverRegistry, *cameras: CameraConfig) -> DeviceManager:
            manager = DeviceManager(cameras, registry, bus, http, tmp_path, SupervisorConfig())
            managers.append(manager)
            return manager

        yield build
        for manager in managers:
            await manager.stop()
    await bus.close()


async def settled(manager: DeviceManager, camera_id: str, state: CameraState) -> None:
    supervisor = manager.supervisors[camera_id]
    async with asyncio.timeout(10):
        while supervisor.state is not state:
            await asyncio.sleep(0.01)


async def test_invalid_option_disables_without_creating(manager_for: BuildManager) -> None:
    driver = CountingDriver()
    registry = DriverRegistry(drivers={"counting": driver})
    manager = manager_for(
        registry,
        CameraConfig(id="bad", name="Bad", driver="counting", options={"channel": 99}),
        CameraConfig(id="typo", name="Typo", driver="counting", options={"chanel": 2}),
        CameraConfig(id="good", name="Good", driver="counting", options={"channel": 3}),
    )
    manager.start()
    await settled(manager, "good", CameraState.ONLINE)
    await settled(manager, "bad", CameraState.DISABLED)
    await settled(manager, "typo", CameraState.DISABLED)
    bad, typo = manager.supervisors["bad"], manager.supervisors["typo"]
    assert bad.reason == (
        "invalid configuration for the counting driver: "
        "options.channel: Input should be less than or equal to 16"
    )
    assert typo.reason is not None
    assert "options.chanel: Extra inputs are not permitted" in typo.reason
    assert not bad.running  # no retry loop
    assert not typo.running
    assert [c.id for c in driver.created] == ["good"]  # create() never saw the bad options
    assert manager.supervisors["good"].info is not None
    assert manager.supervisors["good"].info.model == "channel 3"


async def test_host_is_required_only_by_drivers_that_need_one(manager_for: BuildManager) -> None:
    registry = DriverRegistry(drivers={"counting": CountingDriver(), "hosted": HostDriver()})
    config = parse_config(
        "cameras:\n"
        "  - {id: cloud, name: Cloud, driver: counting}\n"
        "  - {id: lan, name: LAN, driver: hosted}\n"
    )
    assert [str(p) for p in registry.check_cameras(config.cameras)] == [
        "cameras[1].host: the hosted driver needs a host"
    ]
    manager = manager_for(registry, *config.cameras)
    manager.start()
    await settled(manager, "cloud", CameraState.ONLINE)
    await settled(manager, "lan", CameraState.DISABLED)
    assert manager.supervisors["lan"].reason == (
        "invalid configuration for the hosted driver: host: the hosted driver needs a host"
    )


def test_read_options_names_every_bad_option() -> None:
    config = DeviceConfig(id="x", options={"channel": 0, "extra": True})
    with pytest.raises(Unsupported) as caught:
        read_options(CountingOptions, config)
    message = str(caught.value)
    assert message.startswith("invalid driver options: ")
    assert "channel: Input should be greater than or equal to 1" in message
    assert "extra: Extra inputs are not permitted" in message
