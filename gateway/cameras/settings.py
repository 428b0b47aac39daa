"""Camera settings the owner changes from the UI: validated, stored, and applied by restarting
only that camera.

A camera from the config file keeps the file as its base: a change made here is stored as an
override of that field (migration 0009) and applied over the file at every start, until the
file's value of that field is edited (then the file wins again, and the override is dropped).
An adopted camera's own row and credentials are changed instead. Credentials are checked
against the camera before anything is stored, as adoption does.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, ValidationError

from doorstep.gateway.cameras.errors import CameraNotFound, SettingsRefused
from doorstep.gateway.cameras.overrides import StoredSettings, first_problem, secret_of
from doorstep.gateway.cameras.views import CameraSettingsView
from doorstep.gateway.config.models import CameraConfig
from doorstep.gateway.config.recording import CameraRecordingConfig
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.keys.redaction import register_secret
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRepository
from doorstep.sdk import DeviceInfo, options_model_of

_log = logging.getLogger(__name__)

LIVE_STREAMS = ("main", "sub")
RECORDING_FIELDS = tuple(f"recording.{name}" for name in CameraRecordingConfig.model_fields)
RESTARTS = frozenset({"enabled", "rtsp_allow_basic", "username", "password"})
"""Changes the driver sees: the camera restarts (as do option changes). A new name or live
stream does not touch the connection."""

Check = Callable[[CameraConfig], Awaitable[DeviceInfo]]


@dataclass(frozen=True, slots=True)
class CameraChange:
    """What the owner asks to change; None leaves a field as it is."""

    name: str | None = None
    enabled: bool | None = None
    live_stream: str | None = None
    rtsp_allow_basic: bool | None = None
    options: Mapping[str, str | int | float | bool | None] | None = None
    """Driver options to set; None as a value unsets one (the driver's default applies)."""
    username: str | None = None
    password: str | None = None
    recording: Mapping[str, Any] | None = None
    """This camera's recording settings to set (`mode`, `audio`, `preroll_s`, …); None as a
    value follows the gateway's default again. Applied at once, without a restart."""


class CameraSettings:
    """The owner's settings of every camera: loaded at start, changed by PATCH."""

    def __init__(
        self,
        repository: CameraRepository,
        box: SecretBox,
        registry: DriverRegistry,
        declared: Sequence[CameraConfig],
        check: Check,
    ) -> None:
        self._registry = registry
        self._declared = {c.id: c for c in declared}
        self._check = check
        self._stored = StoredSettings(repository, box, self._declared)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.owner_disabled = self._stored.owner_disabled
        """Cameras turned off from the UI (not in the config file)."""

    def declared(self, camera_id: str) -> bool:
        """Whether the camera is declared in the config file."""
        return camera_id in self._declared

    def live_stream(self, camera_id: str) -> str:
        """The stream live view opens for this camera ('main' unless the owner chose 'sub')."""
        return self._stored.live.get(camera_id, "main")

    def overridden(self, camera_id: str) -> list[str]:
        """The fields of a config-file camera whose value was set in the UI."""
        return sorted(self._stored.overridden.get(camera_id, ()))

    def lock(self, camera_id: str) -> asyncio.Lock:
        """Held while a camera's settings change (removing it waits for that)."""
        return self._locks[camera_id]

    def forget(self, camera_id: str) -> None:
        """Drop what is kept in memory for a removed camera (its rows go with its row)."""
        self._stored.live.pop(camera_id, None)
        self._stored.overridden.pop(camera_id, None)
        self.owner_disabled.discard(camera_id)

    async def load(self, adopted: Sequence[CameraConfig]) -> list[CameraConfig]:
        """The config file's cameras and the adopted ones, with the owner's settings applied."""
        return await self._stored.load(adopted)

    def editable(self, config: CameraConfig, streams: Sequence[str]) -> list[str]:
        """What PATCH may change on this camera now (for the owner)."""
        fields = ["name", "enabled", *RECORDING_FIELDS]
        factory = self._registry.get(config.driver)
        if factory is None:  # nothing to check credentials or options with
            return fields
        if all(name in streams for name in LIVE_STREAMS):
            fields.append("live_stream")
        fields += ["rtsp_allow_basic", "username", "password"]
        model = options_model_of(factory)
        if model is not None:
            fields += [f"options.{name}" for name in model.model_fields]
        return fields

    def view(self, config: CameraConfig, streams: Sequence[str]) -> CameraSettingsView:
        """The camera's settings form (no password: only whether one is set)."""
        factory = self._registry.get(config.driver)
        model = options_model_of(factory) if factory is not None else None
        return CameraSettingsView(
            id=config.id,
            source="config" if self.declared(config.id) else "adopted",
            name=config.name,
            enabled=config.enabled,
            live_stream=self.live_stream(config.id),
            streams=list(streams),
            rtsp_allow_basic=config.rtsp_allow_basic,
            username=config.username,
            password_set=bool(config.password),
            options=dict(config.options),
            recording=config.recording.model_dump(exclude_none=True),
            options_schema=model.model_json_schema() if model is not None else None,
            overridden=self.overridden(config.id),
            editable=self.editable(config, streams),
        )

    # -- PATCH --------------------------------------------------------------------------------
    async def change(
        self, camera_id: str, change: CameraChange, devices: DeviceManager
    ) -> list[str]:
        """Apply `change` to a camera; the names of the fields that changed (empty: none did).

        `CameraNotFound`; `SettingsRefused` for a value the camera or its driver cannot take;
        `AdoptionError` when the camera refuses new credentials (nothing is stored then).
        """
        register_secret(change.password)
        if camera_id not in devices.cameras:  # before a lock is made for it: ids are input
            raise CameraNotFound(camera_id)
        async with self._locks[camera_id]:
            current = devices.cameras.get(camera_id)
            supervisor = devices.supervisors.get(camera_id)
            if current is None or supervisor is None:
                raise CameraNotFound(camera_id)
            updates: dict[str, Any] = {}
            for field in ("name", "enabled", "rtsp_allow_basic", "username"):
                wanted = getattr(change, field)
                if wanted is not None and wanted != getattr(current, field):
                    updates[field] = wanted
            if change.password is not None and change.password != secret_of(current.password):
                updates["password"] = SecretStr(change.password)
            changed = sorted(updates)
            if change.options is not None:
                options = self._options(current, change.options)
                changed += [
                    f"options.{k}"
                    for k in sorted(set(options) | set(current.options))
                    if options.get(k) != current.options.get(k)
                ]
                updates["options"] = options
            if change.recording is not None:
                recording = {**current.recording.model_dump(), **change.recording}
                changed += [
                    f"recording.{k}"
                    for k in sorted(change.recording)
                    if recording.get(k) != getattr(current.recording, k, None)
                ]
                updates["recording"] = recording
            live = change.live_stream
            if live is not None and live != self.live_stream(camera_id):
                self._refuse_stream(live, [s.name for s in supervisor.streams])
                changed.append("live_stream")
            if not changed:
                return []
            try:
                new = CameraConfig.model_validate({**current.model_dump(), **updates})
            except ValidationError as exc:
                problem = first_problem(exc)
                raise SettingsRefused(problem, field=problem.partition(":")[0]) from None
            if {"username", "password"} & set(changed):
                await self._check(new)  # AdoptionError in plain words if the camera refuses
            await self._stored.save(new, changed, live)
            await self._activate(devices, new, changed, live)
            return sorted(changed)

    def _options(
        self, current: CameraConfig, wanted: Mapping[str, str | int | float | bool | None]
    ) -> dict[str, str | int | float | bool]:
        factory = self._registry.get(current.driver)
        model = options_model_of(factory) if factory is not None else None
        if model is None:
            raise SettingsRefused(
                f"The {current.driver} driver does not describe its options, so they can't be "
                "changed here",
                "Set them in config.yaml under this camera's options.",
                field="options",
            )
        unknown = sorted(set(wanted) - set(model.model_fields))
        if unknown:
            known = ", ".join(sorted(model.model_fields)) or "none"
            raise SettingsRefused(
                f"The {current.driver} driver has no option \u201c{unknown[0]}\u201d",
                f"Its options are: {known}.",
                field=f"options.{unknown[0]}",
            )
        options = dict(current.options)
        for name, value in wanted.items():
            if value is None:
                options.pop(name, None)
            else:
                options[name] = value
        problems = self._registry.camera_problems(current.driver, current.host, options)
        if problems:
            where, message = problems[0]
            raise SettingsRefused(f"{where}: {message}", field=where)
        return options

    @staticmethod
    def _refuse_stream(wanted: str, offered: list[str]) -> None:
        if wanted in offered or wanted == "main":  # back to the main stream: always possible
            return
        if not offered:
            raise SettingsRefused(
                "The camera's streams aren't known until it is online",
                "Try again once it shows Online.",
                field="live_stream",
            )
        if len(offered) == 1:
            raise SettingsRefused(
                f"This camera offers only one stream ({offered[0]}), so live view can't use "
                f"a {wanted} stream",
                field="live_stream",
            )
        raise SettingsRefused(
            f"This camera has no {wanted} stream (it offers {', '.join(offered)})",
            field="live_stream",
        )

    async def _activate(
        self, devices: DeviceManager, new: CameraConfig, changed: list[str], live: str | None
    ) -> None:
        if "live_stream" in changed and live is not None:
            self._stored.live[new.id] = live
        if "enabled" in changed:
            owner_disabled = not new.enabled
        else:
            owner_disabled = new.id in devices.owner_disabled
        if owner_disabled:
            self.owner_disabled.add(new.id)
        else:
            self.owner_disabled.discard(new.id)
        if RESTARTS & set(changed) or any(f.startswith("options.") for f in changed):
            try:
                await devices.replace(new, owner_disabled=owner_disabled)
            except KeyError:  # removed while it stopped
                raise CameraNotFound(new.id) from None
        elif "name" in changed or any(f.startswith("recording.") for f in changed):
            devices.amend(new.id, name=new.name, recording=new.recording)
