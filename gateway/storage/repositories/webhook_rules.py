"""Outgoing webhook rules: where camera events are POSTed, which ones, and how they are signed."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, inserted_id, to_db


@dataclass(frozen=True, slots=True)
class WebhookRuleRecord:
    """An outgoing webhook rule; the URL and the signing secret are sealed by the caller."""

    id: int
    name: str
    enabled: bool
    url_sealed: bytes
    kinds: tuple[str, ...]
    """Event kinds that trigger the rule (at least one)."""
    cameras: tuple[str, ...]
    """Camera ids the rule is limited to; empty means every camera."""
    include_ends: bool
    """Also deliver when an event ends (active = false), not only when it starts."""
    template: str
    """The JSON body template, as the owner wrote it."""
    secret_sealed: bytes
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime


def _strings(text: str) -> tuple[str, ...]:
    value = json.loads(text)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _record(row: sqlite3.Row) -> WebhookRuleRecord:
    return WebhookRuleRecord(
        id=row["id"],
        name=row["name"],
        enabled=bool(row["enabled"]),
        url_sealed=bytes(row["url_sealed"]),
        kinds=_strings(row["kinds"]),
        cameras=_strings(row["cameras"]),
        include_ends=bool(row["include_ends"]),
        template=row["template"],
        secret_sealed=bytes(row["secret_sealed"]),
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        secret_rotated_at=from_db(row["secret_rotated_at"]),
    )


class WebhookRuleRepository(Repository):
    """Reads and writes the `outgoing_webhooks` table (durable: the owner's settings)."""

    durable = True

    async def add(self, rule: WebhookRuleRecord) -> WebhookRuleRecord:
        """Insert a rule (its `id` is ignored) and return it with the id it got."""
        outcome = await self._conn.execute(
            """INSERT INTO outgoing_webhooks
                 (name, enabled, url_sealed, kinds, cameras, include_ends, template,
                  secret_sealed, created_at, updated_at, secret_rotated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                rule.name, int(rule.enabled), rule.url_sealed, json.dumps(list(rule.kinds)),
                json.dumps(list(rule.cameras)), int(rule.include_ends), rule.template,
                rule.secret_sealed, to_db(rule.created_at), to_db(rule.updated_at),
                to_db(rule.secret_rotated_at),
            ),
        )  # fmt: skip
        added = await self.get(inserted_id(outcome.lastrowid))
        if added is None:
            raise RuntimeError("the rule just inserted cannot be read back")
        return added

    async def update(self, rule: WebhookRuleRecord) -> bool:
        """Replace every field of an existing rule but its creation time; False if it is gone."""
        outcome = await self._conn.execute(
            """UPDATE outgoing_webhooks SET name = ?, enabled = ?, url_sealed = ?, kinds = ?,
                 cameras = ?, include_ends = ?, template = ?, secret_sealed = ?, updated_at = ?,
                 secret_rotated_at = ?
               WHERE id = ?""",
            (
                rule.name, int(rule.enabled), rule.url_sealed, json.dumps(list(rule.kinds)),
                json.dumps(list(rule.cameras)), int(rule.include_ends), rule.template,
                rule.secret_sealed, to_db(rule.updated_at), to_db(rule.secret_rotated_at),
                rule.id,
            ),
        )  # fmt: skip
        return outcome.rowcount > 0

    async def get(self, rule_id: int) -> WebhookRuleRecord | None:
        """One rule by id."""
        row = await self._conn.fetchone("SELECT * FROM outgoing_webhooks WHERE id = ?", (rule_id,))
        return None if row is None else _record(row)

    async def list(self) -> list[WebhookRuleRecord]:
        """Every rule, oldest first."""
        rows = await self._conn.fetchall("SELECT * FROM outgoing_webhooks ORDER BY id")
        return [_record(r) for r in rows]

    async def delete(self, rule_id: int) -> bool:
        """Delete a rule; False if there was none."""
        outcome = await self._conn.execute("DELETE FROM outgoing_webhooks WHERE id = ?", (rule_id,))
        return outcome.rowcount > 0
