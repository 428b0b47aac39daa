"""Adopting cameras: check the credentials against the camera, store them sealed, supervise it.

Part of the camera façade (`facade.Cameras` is what the web calls).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from pydantic import SecretStr, ValidationError

from doorstep.gateway.cameras.errors import AdoptionError, CameraConflict
from doorstep.gateway.config.models import CameraConfig
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.keys.redaction import register_secret
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRecord, CameraRepository, Conflict
from doorstep.sdk import AuthenticationFailed, DeviceConfig, DeviceInfo, DriverContext, DriverError

_log = logging.getLogger(__name__)

ADOPT_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class AdoptRequest:
    """What a user gives to adopt a camera."""

    host: str
    port: int | None
    username: str | None
    password: str | None
    name: str
    driver: str = "onvif"
    camera_id: str | None = None
    rtsp_allow_basic: bool = False
    """Answer RTSP Basic challenges over plain rtsp:// (sends the password in clear)."""


def _address(host: str, port: int | None) -> str:
    return f"{host.lower()}:{port or 'default'}"


def _refuse_known_address(request: AdoptRequest, devices: DeviceManager) -> None:
    wanted = _address(request.host, request.port)
    for supervisor in devices.supervisors.values():
        if _address(supervisor.config.host, supervisor.config.port) == wanted:
            raise CameraConflict(
                "already_adopted",
                f"{request.host}:{request.port or 'default'} is camera {supervisor.camera_id!r} "
                "already",
            )


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    return (slug or "camera")[:48]


class CameraService:
    """Adopted cameras: validation, sealed credentials, and handing them to the supervisor."""

    def __init__(
        self,
        repository: CameraRepository,
        box: SecretBox,
        registry: DriverRegistry,
        http: aiohttp.ClientSession,
        data_dir: Path,
    ) -> None:
        self._repository = repository
        self._box = box
        self._registry = registry
        self._http = http
        self._data_dir = data_dir
        self._lock = asyncio.Lock()

    async def adopted(self) -> list[CameraConfig]:
        """Adopted cameras as configs, with their passwords unsealed for the drivers."""
        configs = []
        for record in await self._repository.list():
            if not record.adopted:
                continue
            stored = await self._repository.credentials(record.id)
            username, password = None, None
            if stored is not None:
                username = stored[0]
                try:
                    password = self._box.open(stored[1])
                    register_secret(password)  # redacted from every log line from now on
                except ValueError:
                    _log.error(
                        "camera %s: stored password cannot be decrypted (key changed?)", record.id
                    )
            configs.append(
                CameraConfig(
                    id=record.id,
                    name=record.name,
                    driver=record.driver,
                    host=record.host,
                    port=record.port,
                    username=username,
                    password=SecretStr(password) if password is not None else None,
                    enabled=record.enabled,
                    rtsp_allow_basic=record.rtsp_allow_basic,
                    options=dict(record.options),
                )
            )
        return configs

    async def _check(self, config: CameraConfig) -> DeviceInfo:
        factory = self._registry.get(config.driver)
        if factory is None:
            raise AdoptionError(f"driver {config.driver!r} is not available")
        problems = self._registry.camera_problems(config.driver, config.host or "", config.options)
        if problems:
            field, message = problems[0]
            raise AdoptionError(f"{field}: {message}")
        context = DriverContext(
            self._http,
            logging.LoggerAdapter(
                logging.getLogger(f"doorstep.drivers.{config.driver}"), {"camera": config.id}
            ),
            self._data_dir / "drivers" / config.driver / config.id,
        )
        device = factory.create(
            DeviceConfig(
                id=config.id,
                host=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                options=dict(config.options),
            ),
            context,
        )
        try:
            return await asyncio.wait_for(device.connect(), ADOPT_TIMEOUT_S)
        except AuthenticationFailed:
            raise AdoptionError("the camera refused these credentials") from None
        except TimeoutError:
            raise AdoptionError("the camera did not answer in time") from None
        except DriverError as exc:
            raise AdoptionError(f"the camera cannot be used: {exc}") from None
        finally:
            await device.close()

    async def forget(self, camera_id: str) -> bool:
        """Delete an adopted camera; one with clips is kept, disabled. True if it was kept."""
        try:
            await self._repository.delete(camera_id)
        except Conflict:  # clips still refer to it
            record = await self._repository.get(camera_id)
            if record is not None:
                await self._repository.upsert(replace(record, enabled=False))
            await self._repository.revoke_grants(camera_id)
            return True
        return False

    async def adopt(self, request: AdoptRequest, devices: DeviceManager) -> CameraRecord:
        """Connect once to prove the credentials, then store and start supervising the camera.

        `CameraConflict` if a camera at that host and port is supervised already.
        """
        register_secret(request.password)  # the check below logs in with it: keep it out of logs
        async with self._lock:
            _refuse_known_address(request, devices)
            existing = {c.id for c in await self._repository.list()} | set(devices.supervisors)
            camera_id = request.camera_id or _slug(request.name)
            if request.camera_id is None:
                base, n = camera_id, 2
                while camera_id in existing:
                    camera_id, n = f"{base}-{n}", n + 1
            elif camera_id in existing:
                raise AdoptionError(f"a camera with id {camera_id!r} exists already")
            try:
                config = CameraConfig(
                    id=camera_id,
                    name=request.name,
                    driver=request.driver,
                    host=request.host,
                    port=request.port,
                    username=request.username,
                    password=SecretStr(request.password) if request.password is not None else None,
                    rtsp_allow_basic=request.rtsp_allow_basic,
                )
            except ValidationError as exc:
                first = exc.errors()[0]
                raise AdoptionError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
            await self._check(config)
            record = CameraRecord(
                config.id,
                config.name,
                config.driver,
                config.host,
                config.port,
                datetime.now(UTC),
                adopted=True,
                rtsp_allow_basic=config.rtsp_allow_basic,
            )
            await self._repository.upsert(record)
            if request.password is not None:
                await self._repository.put_credentials(
                    config.id, config.username, self._box.seal(request.password)
                )
            devices.add(config)
            _log.info("camera %s adopted (%s:%s)", config.id, config.host, config.port or "default")
            return record
