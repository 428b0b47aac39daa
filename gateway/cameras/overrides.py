"""The owner's camera settings in SQLite (migration 0009), read back at start and written by
each change.

A camera from the config file keeps the file as its base: each field changed in the UI is an
override row that remembers the file's value it replaced, and applies while the file still says
that; once the file's value of that field is edited, the file wins and the row is dropped. An
adopted camera has no file: its own row and credentials are changed instead (it keeps override
rows only for what its row has no column for: the live stream, and `removed`). Passwords are
sealed with the gateway's key file, the file's replaced one too (for that comparison).
"""

from __future__ import annotations

import hmac
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr, ValidationError

from doorstep.gateway.cameras.errors import CameraNotFound
from doorstep.gateway.config.models import CameraConfig
from doorstep.gateway.keys.redaction import register_secret
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRepository
from doorstep.gateway.storage.repositories.cameras import CameraSetting

_log = logging.getLogger(__name__)

PLAIN_FIELDS = ("name", "enabled", "rtsp_allow_basic", "username")
"""Fields stored as their JSON value (the password is sealed; options are one row each)."""
RECORDING = "recording."
"""The prefix of a recording setting's row (one per field); an adopted camera keeps them as
override rows too, its own row has no column for them."""


def field_value(config: CameraConfig, field: str) -> Any:
    """A camera's value of a settings field ('name', 'options.doorbell_input', …)."""
    if field.startswith("options."):
        return config.options.get(field.removeprefix("options."))
    if field.startswith(RECORDING):
        return getattr(config.recording, field.removeprefix(RECORDING))
    return getattr(config, field)


def first_problem(exc: ValidationError) -> str:
    """A validation error's first problem, as "field: message"."""
    first = exc.errors()[0]
    where = ".".join(map(str, first["loc"])) or "settings"
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"


def secret_of(value: SecretStr | None) -> str | None:
    """The clear text of a secret, None for none."""
    return value.get_secret_value() if value is not None else None


class StoredSettings:
    """Reads the owner's settings over the file's (or adoption's) values, and writes changes."""

    def __init__(
        self, repository: CameraRepository, box: SecretBox, declared: Mapping[str, CameraConfig]
    ) -> None:
        self._repository = repository
        self._box = box
        self._declared = declared
        self.live: dict[str, str] = {}
        """The live stream the owner chose, by camera ('main' when absent)."""
        self.overridden: dict[str, set[str]] = defaultdict(set)
        """The fields of each file camera whose value comes from the UI."""
        self.owner_disabled: set[str] = set()
        """Cameras turned off from the UI (not in the config file)."""

    async def load(self, adopted: Sequence[CameraConfig]) -> list[CameraConfig]:
        """The config file's cameras and the adopted ones, with the owner's settings applied
        (a file camera's override whose field was edited in the file since is dropped)."""
        rows: dict[str, list[CameraSetting]] = defaultdict(list)
        for setting in await self._repository.settings():
            rows[setting.camera_id].append(setting)
        configs = []
        for base in [*self._declared.values(), *adopted]:
            declared = base.id in self._declared
            config = await self._apply(base, rows.get(base.id, []), declared)
            if not config.enabled and (not declared or "enabled" in self.overridden[base.id]):
                self.owner_disabled.add(base.id)
            configs.append(config)
        return configs

    async def _apply(
        self, base: CameraConfig, rows: list[CameraSetting], declared: bool
    ) -> CameraConfig:
        updates: dict[str, Any] = {}
        options = dict(base.options)
        recording = base.recording.model_dump()
        for row in rows:
            if row.field == "live_stream":
                self.live[base.id] = str(row.value)
                continue
            if row.field.startswith(RECORDING) and not declared:
                recording[row.field.removeprefix(RECORDING)] = row.value
                continue
            if not declared or not self._still_over(base, row):
                if declared:  # the file's value changed since the owner's edit: the file wins
                    _log.info(
                        "camera %s: config.yaml's %s changed since it was set in the UI; the "
                        "file's value applies",
                        base.id,
                        row.field,
                    )
                    await self._repository.drop_setting(base.id, row.field)
                continue
            if self._override(base.id, row, updates, options, recording):
                self.overridden[base.id].add(row.field)
        if options != base.options:
            updates["options"] = options
        if recording != base.recording.model_dump():
            updates["recording"] = recording
        try:  # re-validated: a stored value is data, like the file
            return CameraConfig.model_validate({**base.model_dump(), **updates})
        except ValidationError as exc:
            _log.error(
                "camera %s: the settings changed in the UI are not valid (%s); using the %s's",
                base.id,
                first_problem(exc),
                "config file" if declared else "adoption",
            )
            self.overridden.pop(base.id, None)
            return base

    def _override(
        self,
        camera_id: str,
        row: CameraSetting,
        updates: dict[str, Any],
        options: dict[str, str | int | float | bool],
        recording: dict[str, Any],
    ) -> bool:
        """Put one stored setting into `updates`/`options`; False if it cannot be used."""
        if row.field == "password":
            password = self._unseal(camera_id, row.secret)
            if row.secret is not None and password is None:
                return False  # cannot be read (key changed?): keep the file's
            register_secret(password)
            updates["password"] = SecretStr(password) if password is not None else None
        elif row.field.startswith("options."):
            name = row.field.removeprefix("options.")
            if row.value is None:
                options.pop(name, None)
            else:
                options[name] = row.value
        elif row.field.startswith(RECORDING):
            recording[row.field.removeprefix(RECORDING)] = row.value
        elif row.field in PLAIN_FIELDS:
            updates[row.field] = row.value
        else:
            return False
        return True

    def _still_over(self, base: CameraConfig, row: CameraSetting) -> bool:
        """Whether the file still says what it said when the owner changed this field."""
        if not row.has_base:
            return False
        if row.field != "password":
            return bool(field_value(base, row.field) == row.base)
        file_password = secret_of(base.password)
        if row.base_secret is None or file_password is None:
            return row.base_secret is None and file_password is None
        sealed = self._unseal(base.id, row.base_secret)
        return sealed is not None and hmac.compare_digest(sealed.encode(), file_password.encode())

    def _unseal(self, camera_id: str, sealed: bytes | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._box.open(sealed)
        except ValueError:
            _log.error("camera %s: a stored password cannot be decrypted (key changed?)", camera_id)
            return None

    async def save(self, new: CameraConfig, changed: list[str], live: str | None) -> None:
        """Store a change: an adopted camera's own row and credentials, or a file camera's
        overrides (a field set back to the file's value drops its override)."""
        now = datetime.now(UTC)
        camera_id = new.id
        if "live_stream" in changed and live is not None:
            if live == "main":
                await self._repository.drop_setting(camera_id, "live_stream")
            else:
                await self._repository.put_setting(
                    CameraSetting(camera_id, "live_stream", live, now)
                )
        file = self._declared.get(camera_id)
        if file is None:
            await self._store_adopted(new, changed)
            await self._store_adopted_recording(new, changed, now)
            return
        for field in changed:
            if field == "live_stream":
                continue
            if field == "password":
                setting = self._password_setting(file, new, now)
            else:
                value, base = field_value(new, field), field_value(file, field)
                setting = CameraSetting(camera_id, field, value, now, True, base)
            if setting is None or (field != "password" and setting.value == setting.base):
                await self._repository.drop_setting(camera_id, field)  # back to the file's
                self.overridden[camera_id].discard(field)
            else:
                await self._repository.put_setting(setting)
                self.overridden[camera_id].add(field)

    def _password_setting(
        self, file: CameraConfig, new: CameraConfig, now: datetime
    ) -> CameraSetting | None:
        password, file_password = secret_of(new.password), secret_of(file.password)
        if password == file_password:
            return None
        return CameraSetting(
            new.id, "password", None, now, True, file_password is not None,
            secret=None if password is None else self._box.seal(password),
            base_secret=None if file_password is None else self._box.seal(file_password),
        )  # fmt: skip

    async def _store_adopted_recording(
        self, new: CameraConfig, changed: list[str], now: datetime
    ) -> None:
        for field in (f for f in changed if f.startswith(RECORDING)):
            value = field_value(new, field)
            if value is None:  # the gateway's default again
                await self._repository.drop_setting(new.id, field)
            else:
                await self._repository.put_setting(CameraSetting(new.id, field, value, now))

    async def _store_adopted(self, new: CameraConfig, changed: list[str]) -> None:
        record = await self._repository.get(new.id)
        if record is None:
            raise CameraNotFound(new.id)
        await self._repository.upsert(
            replace(
                record,
                name=new.name,
                enabled=new.enabled,
                rtsp_allow_basic=new.rtsp_allow_basic,
                options=dict(new.options),
            )
        )
        if {"username", "password"} & set(changed) and new.password is not None:
            sealed = self._box.seal(new.password.get_secret_value())
            await self._repository.put_credentials(new.id, new.username, sealed)
