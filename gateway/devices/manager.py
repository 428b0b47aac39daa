"""Builds a supervisor for every configured camera and starts/stops them together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

import aiohttp

from drivers.sdk import DeviceConfig, DriverContext

from ..bus import EventBus
from ..config import CameraConfig, SupervisorConfig
from ..events import CameraState
from ..plugins import DriverRegistry
from .backoff import Backoff
from .supervisor import DeviceSupervisor

_log = logging.getLogger(__name__)


def device_config(camera: CameraConfig) -> DeviceConfig:
    """The driver's view of a camera's configuration."""
    return DeviceConfig(
        id=camera.id,
        host=camera.host,
        port=camera.port,
        username=camera.username,
        password=camera.password,
        options=dict(camera.options),
    )


class DeviceManager:
    """Owns every `DeviceSupervisor`; the one place the gateway reaches cameras through."""

    def __init__(
        self,
        cameras: Iterable[CameraConfig],
        registry: DriverRegistry,
        bus: EventBus,
        http: aiohttp.ClientSession,
        data_dir: Path,
        policy: SupervisorConfig,
    ) -> None:
        self.supervisors: dict[str, DeviceSupervisor] = {}
        for camera in cameras:
            factory = registry.get(camera.driver)
            missing = None
            if factory is None:
                why = registry.failures.get(camera.driver)
                missing = f"driver {camera.driver!r} " + (
                    f"failed to load ({why})" if why else "is not installed"
                )
            context = DriverContext(
                http=http,
                logger=logging.LoggerAdapter(
                    logging.getLogger(f"drivers.{camera.driver}"), {"camera": camera.id}
                ),
                data_dir=data_dir / "drivers" / camera.driver / camera.id,
            )
            self.supervisors[camera.id] = DeviceSupervisor(
                device_config(camera),
                factory,
                context,
                bus,
                Backoff(policy.backoff_initial_s, policy.backoff_max_s),
                enabled=camera.enabled,
                missing_driver=missing,
            )

    def start(self) -> None:
        """Start every supervisor."""
        for supervisor in self.supervisors.values():
            supervisor.start()

    async def stop(self) -> None:
        """Stop every supervisor concurrently."""
        await asyncio.gather(*(s.stop() for s in self.supervisors.values()))

    def states(self) -> dict[str, CameraState]:
        """Current state of each camera, by id."""
        return {cid: s.state for cid, s in self.supervisors.items()}
