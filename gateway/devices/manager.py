"""Builds a supervisor for every configured camera and starts/stops them together; restarts
one camera with new settings while the others carry on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from pathlib import Path

import aiohttp

from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.config.models import CameraConfig, SupervisorConfig
from doorstep.gateway.config.recording import CameraRecordingConfig
from doorstep.gateway.devices.backoff import Backoff
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.devices.supervisor import (
    DISABLED_BY_OWNER,
    DISABLED_IN_CONFIG,
    DeviceSupervisor,
)
from doorstep.gateway.events import CameraState
from doorstep.sdk import DeviceConfig, DriverContext, WebhookRegistry

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
        webhooks: WebhookRegistry | None = None,
        owner_disabled: Collection[str] = (),
    ) -> None:
        self.supervisors: dict[str, DeviceSupervisor] = {}
        self.cameras: dict[str, CameraConfig] = {}
        """The configuration each supervisor runs with (the owner's settings applied)."""
        self.owner_disabled: set[str] = set(owner_disabled)
        """Cameras turned off from the UI rather than in the config file (their reason says so)."""
        self._registry = registry
        self._bus = bus
        self._http = http
        self._data_dir = data_dir
        self._policy = policy
        self._webhooks = webhooks
        for camera in cameras:
            self.supervisors[camera.id] = self._supervisor(camera)
            self.cameras[camera.id] = camera

    def _supervisor(self, camera: CameraConfig) -> DeviceSupervisor:
        factory = self._registry.get(camera.driver)
        missing = None
        if factory is None:
            why = self._registry.failures.get(camera.driver)
            missing = f"driver {camera.driver!r} " + (
                f"failed to load ({why})" if why else "is not installed"
            )
        elif problems := self._registry.camera_problems(camera.driver, camera.host, camera.options):
            # The config is frozen, so checking once here covers every later create(): a bad
            # option disables the camera with the reason instead of failing each retry.
            factory = None
            missing = f"invalid configuration for the {camera.driver} driver: " + "; ".join(
                f"{where}: {message}" for where, message in problems
            )
        context = DriverContext(
            http=self._http,
            logger=logging.LoggerAdapter(
                logging.getLogger(f"doorstep.drivers.{camera.driver}"), {"camera": camera.id}
            ),
            data_dir=self._data_dir / "drivers" / camera.driver / camera.id,
            webhooks=self._webhooks,
        )
        return DeviceSupervisor(
            device_config(camera),
            factory,
            context,
            self._bus,
            Backoff(self._policy.backoff_initial_s, self._policy.backoff_max_s),
            enabled=camera.enabled,
            missing_driver=missing,
            name=camera.name,
            driver=camera.driver,
            events_per_s=self._policy.events_per_s,
            event_burst=self._policy.event_burst,
            rtsp_allow_basic=camera.rtsp_allow_basic,
            disabled_reason=DISABLED_BY_OWNER
            if camera.id in self.owner_disabled
            else DISABLED_IN_CONFIG,
        )

    def add(self, camera: CameraConfig) -> DeviceSupervisor:
        """Supervise a camera adopted while running."""
        if camera.id in self.supervisors:
            raise ValueError(f"camera {camera.id} is supervised already")
        supervisor = self._supervisor(camera)
        self.supervisors[camera.id] = supervisor
        self.cameras[camera.id] = camera
        supervisor.start()
        return supervisor

    async def replace(
        self, camera: CameraConfig, *, owner_disabled: bool = False
    ) -> DeviceSupervisor:
        """Restart one camera with a new configuration; the other cameras are not touched.

        The old supervisor is stopped first (it frees the camera's event subscriptions), so the
        camera never sees two of us at once. `KeyError` if the camera is not supervised (or was
        removed while it stopped).
        """
        old = self.supervisors[camera.id]
        await old.stop()
        if self.supervisors.get(camera.id) is not old:
            raise KeyError(camera.id)
        if owner_disabled:
            self.owner_disabled.add(camera.id)
        else:
            self.owner_disabled.discard(camera.id)
        supervisor = self._supervisor(camera)
        self.supervisors[camera.id] = supervisor  # the same key: the cameras keep their order
        self.cameras[camera.id] = camera
        supervisor.start()
        await asyncio.sleep(0)  # its first step runs: the state reads connecting (or disabled)
        _log.info("camera %s restarted with new settings", camera.id)
        return supervisor

    def amend(self, camera_id: str, *, name: str, recording: CameraRecordingConfig) -> None:
        """Change what the driver never sees, without a restart: the display name, and how the
        camera records (its recorder follows once told)."""
        self.supervisors[camera_id].name = name
        self.cameras[camera_id] = self.cameras[camera_id].model_copy(
            update={"name": name, "recording": recording}
        )

    async def remove(self, camera_id: str) -> None:
        """Stop supervising a camera and forget it."""
        supervisor = self.supervisors.pop(camera_id, None)
        self.cameras.pop(camera_id, None)
        self.owner_disabled.discard(camera_id)
        if supervisor is not None:
            await supervisor.stop()

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
