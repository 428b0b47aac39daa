"""Cameras (declared in the config or adopted), their identity, stored credentials and the
settings the owner changed from the UI (`camera_settings`, see migration 0009)."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db

_ALLOW_BASIC = "doorstep.rtsp_allow_basic"
"""Key of the gateway's own RTSP Basic setting in the `options` JSON (kept apart from the
driver options it shares the column with; no driver option has a dotted name)."""


@dataclass(frozen=True, slots=True)
class CameraRecord:
    """A camera row: configuration essentials plus the identity last read from the device."""

    id: str
    name: str
    driver: str
    host: str
    port: int | None
    created_at: datetime
    stable_id: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    last_seen_at: datetime | None = None
    adopted: bool = False
    """Adopted from the UI or CLI (stored here), rather than declared in the config file."""
    enabled: bool = True
    options: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    """Driver options."""
    rtsp_allow_basic: bool = False
    """Answer RTSP Basic challenges over plain rtsp:// (sends the password in clear)."""


@dataclass(frozen=True, slots=True)
class CameraSetting:
    """One setting the owner changed from the UI, over the config file's (or adoption's) value."""

    camera_id: str
    field: str
    """'name', 'enabled', 'live_stream', 'rtsp_allow_basic', 'username', 'password',
    'options.<name>', 'recording.<name>' or 'removed'."""
    value: Any
    """The JSON value (None for a password: it is in `secret`; None for an unset option)."""
    changed_at: datetime
    has_base: bool = False
    """Whether `base` holds the file's value this setting replaced (False for adopted cameras)."""
    base: Any = None
    secret: bytes | None = None
    """The password, sealed by the caller (never in clear)."""
    base_secret: bytes | None = None
    """The file's password this replaced, sealed by the caller (None: the file had none)."""


def _setting(row: sqlite3.Row) -> CameraSetting:
    base = row["base"]
    return CameraSetting(
        camera_id=row["camera_id"],
        field=row["field"],
        value=json.loads(row["value"]),
        changed_at=from_db(row["changed_at"]),
        has_base=base is not None,
        base=None if base is None else json.loads(base),
        secret=None if row["secret"] is None else bytes(row["secret"]),
        base_secret=None if row["base_secret"] is None else bytes(row["base_secret"]),
    )


def _record(row: sqlite3.Row) -> CameraRecord:
    options = json.loads(row["options"])
    allow_basic = options.pop(_ALLOW_BASIC, False) is True
    return CameraRecord(
        id=row["id"],
        name=row["name"],
        driver=row["driver"],
        host=row["host"],
        port=row["port"],
        created_at=from_db(row["created_at"]),
        stable_id=row["stable_id"],
        manufacturer=row["manufacturer"],
        model=row["model"],
        firmware=row["firmware"],
        last_seen_at=maybe_from_db(row["last_seen_at"]),
        adopted=bool(row["adopted"]),
        enabled=bool(row["enabled"]),
        options=options,
        rtsp_allow_basic=allow_basic,
    )


def _options_json(camera: CameraRecord) -> str:
    options = dict(camera.options)
    options.pop(_ALLOW_BASIC, None)
    if camera.rtsp_allow_basic:
        options[_ALLOW_BASIC] = True
    return json.dumps(options, sort_keys=True)


class CameraRepository(Repository):
    """Reads and writes the `cameras` table."""

    async def upsert(self, camera: CameraRecord) -> None:
        """Insert a camera, or update its configured fields (keeping identity and creation time)."""
        await self._conn.execute(
            """INSERT INTO cameras
                 (id, name, driver, host, port, created_at, adopted, enabled, options)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET
                 name = excluded.name, driver = excluded.driver, host = excluded.host,
                 port = excluded.port, adopted = excluded.adopted, enabled = excluded.enabled,
                 options = excluded.options""",
            (
                camera.id, camera.name, camera.driver, camera.host, camera.port,
                to_db(camera.created_at), int(camera.adopted), int(camera.enabled),
                _options_json(camera),
            ),
        )  # fmt: skip

    async def record_identity(
        self,
        camera_id: str,
        seen_at: datetime,
        stable_id: str | None,
        manufacturer: str | None,
        model: str | None,
        firmware: str | None,
    ) -> None:
        """Store what the device said about itself when it last connected."""
        await self._conn.execute(
            """UPDATE cameras SET stable_id = ?, manufacturer = ?, model = ?, firmware = ?,
                 last_seen_at = ? WHERE id = ?""",
            (stable_id, manufacturer, model, firmware, to_db(seen_at), camera_id),
        )

    async def get(self, camera_id: str) -> CameraRecord | None:
        """One camera by id."""
        row = await self._conn.fetchone("SELECT * FROM cameras WHERE id = ?", (camera_id,))
        return None if row is None else _record(row)

    async def list(self) -> list[CameraRecord]:
        """Every camera, by id."""
        return [_record(r) for r in await self._conn.fetchall("SELECT * FROM cameras ORDER BY id")]

    async def put_credentials(self, camera_id: str, username: str | None, sealed: bytes) -> None:
        """Store a camera's user name and its password as sealed by the caller (never in clear)."""
        await self._conn.execute(
            """INSERT INTO camera_credentials (camera_id, username, secret) VALUES (?, ?, ?)
               ON CONFLICT (camera_id) DO UPDATE SET username = excluded.username,
                 secret = excluded.secret""",
            (camera_id, username, sealed),
        )

    async def credentials(self, camera_id: str) -> tuple[str | None, bytes] | None:
        """(user name, sealed password) of a camera, if stored."""
        row = await self._conn.fetchone(
            "SELECT username, secret FROM camera_credentials WHERE camera_id = ?", (camera_id,)
        )
        return None if row is None else (row["username"], bytes(row["secret"]))

    async def revoke_grants(self, camera_id: str) -> int:
        """Withdraw every account's grant of a camera (it is kept only for its clips)."""
        outcome = await self._conn.execute(
            "DELETE FROM camera_grants WHERE camera_id = ?", (camera_id,)
        )
        return outcome.rowcount

    async def delete(self, camera_id: str) -> bool:
        """Delete a camera and its events; refused by the schema while it still has clips."""
        outcome = await self._conn.execute("DELETE FROM cameras WHERE id = ?", (camera_id,))
        return outcome.rowcount > 0

    async def put_setting(self, setting: CameraSetting) -> None:
        """Store (or replace) one setting the owner changed; its camera row must exist."""
        await self._conn.execute(
            """INSERT INTO camera_settings
                 (camera_id, field, value, base, secret, base_secret, changed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (camera_id, field) DO UPDATE SET value = excluded.value,
                 base = excluded.base, secret = excluded.secret,
                 base_secret = excluded.base_secret, changed_at = excluded.changed_at""",
            (
                setting.camera_id, setting.field, json.dumps(setting.value, sort_keys=True),
                json.dumps(setting.base, sort_keys=True) if setting.has_base else None,
                setting.secret, setting.base_secret, to_db(setting.changed_at),
            ),
        )  # fmt: skip

    async def settings(self, camera_id: str | None = None) -> builtins.list[CameraSetting]:
        """The owner's settings of one camera (or of every camera), by camera and field."""
        if camera_id is None:
            rows = await self._conn.fetchall(
                "SELECT * FROM camera_settings ORDER BY camera_id, field"
            )
        else:
            rows = await self._conn.fetchall(
                "SELECT * FROM camera_settings WHERE camera_id = ? ORDER BY field", (camera_id,)
            )
        return [_setting(r) for r in rows]

    async def drop_setting(self, camera_id: str, field: str) -> bool:
        """Forget one setting (the file's or adoption's value applies again)."""
        outcome = await self._conn.execute(
            "DELETE FROM camera_settings WHERE camera_id = ? AND field = ?", (camera_id, field)
        )
        return outcome.rowcount > 0

    async def drop_settings(self, camera_id: str) -> int:
        """Forget every setting the owner changed on a camera."""
        outcome = await self._conn.execute(
            "DELETE FROM camera_settings WHERE camera_id = ?", (camera_id,)
        )
        return outcome.rowcount
