"""Runtime settings the owner changes from the UI: a key, a JSON value, who changed it when."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, to_db


@dataclass(frozen=True, slots=True)
class SettingRecord:
    """One setting: its JSON value, and the account that last changed it (and when)."""

    key: str
    value: Any
    changed_at: datetime
    changed_by: str


def _record(row: sqlite3.Row) -> SettingRecord:
    return SettingRecord(
        row["key"], json.loads(row["value"]), from_db(row["changed_at"]), row["changed_by"]
    )


class SettingsRepository(Repository):
    """Reads and writes the `settings` table (durable: an owner's decision, such as turning
    outbound push off, must survive a power cut)."""

    durable = True

    async def get(self, key: str) -> SettingRecord | None:
        """One setting, if it was ever set."""
        row = await self._conn.fetchone("SELECT * FROM settings WHERE key = ?", (key,))
        return None if row is None else _record(row)

    async def all(self) -> list[SettingRecord]:
        """Every stored setting, by key."""
        rows = await self._conn.fetchall("SELECT * FROM settings ORDER BY key")
        return [_record(r) for r in rows]

    async def put(self, key: str, value: Any, changed_at: datetime, changed_by: str) -> None:
        """Set a setting (`value` must be JSON-serialisable)."""
        await self._conn.execute(
            """INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                 changed_at = excluded.changed_at, changed_by = excluded.changed_by""",
            (key, json.dumps(value, sort_keys=True), to_db(changed_at), changed_by[:64]),
        )
