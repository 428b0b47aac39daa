"""Adopting cameras: check the credentials against the camera, store them sealed, supervise it.

Part of the camera façade (`facade.Cameras` is what the web calls).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from pydantic import SecretStr, ValidationError

from doorstep.gateway.cameras.errors import AdoptionError, CameraConflict
from doorstep.gateway.cameras.settings import CameraSettings
from doorstep.gateway.cameras.status_text import WRONG_PASSWORD, explain_failure
from doorstep.gateway.config.models import CameraConfig
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.manager import device_config
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.keys.redaction import register_secret
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRecord, CameraRepository, Conflict
from doorstep.gateway.storage.repositories.cameras import CameraSetting
from doorstep.sdk import DeviceInfo, DriverContext, DriverError

_log = logging.getLogger(__name__)

ADOPT_TIMEOUT_S = 20.0
MAX_DETAIL_CHARS = 300


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


def _os_cause(exc: BaseException) -> str:
    """The network error under a driver's error, named (the text of aiohttp's says
    "Connect call failed" whether the port was closed or the host unreachable)."""
    deepest: BaseException | None = None
    seen: BaseException | None = exc
    for _ in range(8):  # the innermost OSError (aiohttp's own errors are OSErrors too)
        seen = (seen.__cause__ or seen.__context__) if seen is not None else None
        if isinstance(seen, OSError):
            deepest = seen
    if deepest is None or type(deepest) is OSError:
        return ""
    return f" ({type(deepest).__name__})"


def _refused(config: CameraConfig, detail: str) -> AdoptionError:
    secret = config.password.get_secret_value() if config.password else ""
    if secret:  # drivers must never put it in a message; a broken one must not show it either
        detail = detail.replace(secret, "***")
    plain = explain_failure(detail, config.host, config.port)
    field = "password" if plain.text == WRONG_PASSWORD.text else "host"
    return AdoptionError(plain.text, plain.hint, detail=detail[:MAX_DETAIL_CHARS], field=field)


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
        declared: Sequence[CameraConfig] = (),
    ) -> None:
        self._repository = repository
        self._box = box
        self._registry = registry
        self._http = http
        self._data_dir = data_dir
        self._lock = asyncio.Lock()
        self._declared = {c.id for c in declared}
        self.settings = CameraSettings(repository, box, registry, declared, self.check)
        """The owner's changes to cameras (PATCH), applied over the file's or adoption's values."""

    async def supervised(self) -> list[CameraConfig]:
        """Every camera to supervise, file ones first, with the owner's settings applied."""
        adopted = [c for c in await self.adopted() if c.id not in self._declared]
        return await self.settings.load(adopted)

    async def adopted(self) -> list[CameraConfig]:
        """Adopted cameras as configs, with their passwords unsealed for the drivers."""
        configs = []
        removed = {s.camera_id for s in await self._repository.settings() if s.field == "removed"}
        for record in await self._repository.list():
            if not record.adopted or record.id in removed:
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

    async def check(self, config: CameraConfig) -> DeviceInfo:
        """Connect once with `config` to prove the camera is there and takes the credentials.

        `AdoptionError` in plain words (a wrong password, nothing at that address, not an ONVIF
        camera, no answer in time), with the raw cause as its `detail`.
        """
        factory = self._registry.get(config.driver)
        if factory is None:
            known = ", ".join(sorted(self._registry.drivers)) or "none"
            raise AdoptionError(
                f"Doorstep has no driver called \u201c{config.driver}\u201d",
                f"Installed drivers: {known}.",
                field="driver",
            )
        problems = self._registry.camera_problems(config.driver, config.host or "", config.options)
        if problems:
            field, message = problems[0]
            raise AdoptionError(f"{field}: {message}", field=field)
        context = DriverContext(
            self._http,
            logging.LoggerAdapter(
                logging.getLogger(f"doorstep.drivers.{config.driver}"), {"camera": config.id}
            ),
            self._data_dir / "drivers" / config.driver / config.id,
            rtsp_allow_basic=config.rtsp_allow_basic,
        )
        device = factory.create(device_config(config), context)
        try:
            return await asyncio.wait_for(device.connect(), ADOPT_TIMEOUT_S)
        except TimeoutError:
            raise _refused(config, f"no answer within {ADOPT_TIMEOUT_S:.0f} s") from None
        except DriverError as exc:
            raise _refused(config, f"{type(exc).__name__}: {exc}{_os_cause(exc)}") from None
        finally:
            await device.close()

    async def forget(self, camera_id: str) -> bool:
        """Delete an adopted camera; one with clips is kept, disabled. True if it was kept."""
        self.settings.forget(camera_id)
        try:
            await self._repository.delete(camera_id)
        except Conflict:  # clips still refer to it
            record = await self._repository.get(camera_id)
            if record is not None:
                await self._repository.upsert(replace(record, enabled=False))
            await self._repository.revoke_grants(camera_id)
            await self._repository.drop_settings(camera_id)
            # Kept for its clips only: not supervised again at the next start.
            await self._repository.put_setting(
                CameraSetting(camera_id, "removed", True, datetime.now(UTC))
            )
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
                where = ".".join(map(str, first["loc"]))
                message = first["msg"].removeprefix("Value error, ")
                raise AdoptionError(f"{where}: {message}", field=where) from None
            await self.check(config)
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
