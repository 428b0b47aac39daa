"""Web Push subscriptions: one row per browser endpoint, owned by the user who subscribed it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db


@dataclass(frozen=True, slots=True)
class PushSubscriptionRecord:
    """A push subscription row; `endpoint`, `p256dh` and `auth` are secrets of the device."""

    id: int
    user_id: int
    endpoint: str = field(repr=False)
    p256dh: str = field(repr=False)
    auth: str = field(repr=False)
    label: str
    prefs: dict[str, Any]
    """JSON as stored; the caller validates its shape."""
    created_at: datetime
    updated_at: datetime
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


def _record(row: sqlite3.Row) -> PushSubscriptionRecord:
    prefs = json.loads(row["prefs"])
    return PushSubscriptionRecord(
        id=row["id"],
        user_id=row["user_id"],
        endpoint=row["endpoint"],
        p256dh=row["p256dh"],
        auth=row["auth"],
        label=row["label"],
        prefs=prefs if isinstance(prefs, dict) else {},
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        last_success_at=maybe_from_db(row["last_success_at"]),
        last_error=row["last_error"],
        last_error_at=maybe_from_db(row["last_error_at"]),
    )


class PushSubscriptionRepository(Repository):
    """Reads and writes the `push_subscriptions` table (standard connection: a lost write is a
    device that subscribes again on its next visit, and deliveries update rows often)."""

    async def upsert(
        self,
        user_id: int,
        endpoint: str,
        p256dh: str,
        auth: str,
        label: str,
        prefs: dict[str, Any],
        at: datetime,
        max_per_user: int,
    ) -> PushSubscriptionRecord | None:
        """Store a subscription, or update the one with this endpoint (it moves to `user_id`:
        the device is now theirs). None when the user already has `max_per_user` others."""
        stamp = to_db(at)
        async with self._conn.transaction() as tx:
            async with tx.execute(
                "SELECT user_id FROM push_subscriptions WHERE endpoint = ?", (endpoint,)
            ) as cursor:
                existing = await cursor.fetchone()
            if existing is None or existing[0] != user_id:
                async with tx.execute(
                    "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = ?", (user_id,)
                ) as cursor:
                    row = await cursor.fetchone()
                if row is not None and int(row[0]) >= max_per_user:
                    return None
            await tx.execute(
                """INSERT INTO push_subscriptions
                     (user_id, endpoint, p256dh, auth, label, prefs, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (endpoint) DO UPDATE SET
                     last_success_at = CASE WHEN user_id = excluded.user_id
                                            THEN last_success_at END,
                     created_at = CASE WHEN user_id = excluded.user_id
                                       THEN created_at ELSE excluded.created_at END,
                     user_id = excluded.user_id, p256dh = excluded.p256dh,
                     auth = excluded.auth, label = excluded.label, prefs = excluded.prefs,
                     updated_at = excluded.updated_at, last_error = NULL, last_error_at = NULL""",
                (user_id, endpoint, p256dh, auth, label, json.dumps(prefs), stamp, stamp),
            )
            async with tx.execute(
                "SELECT * FROM push_subscriptions WHERE endpoint = ?", (endpoint,)
            ) as cursor:
                stored = await cursor.fetchone()
        return None if stored is None else _record(stored)

    async def get(self, subscription_id: int) -> PushSubscriptionRecord | None:
        """One subscription by id."""
        row = await self._conn.fetchone(
            "SELECT * FROM push_subscriptions WHERE id = ?", (subscription_id,)
        )
        return None if row is None else _record(row)

    async def for_user(self, user_id: int) -> list[PushSubscriptionRecord]:
        """A user's subscriptions, oldest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM push_subscriptions WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [_record(r) for r in rows]

    async def all(self) -> list[PushSubscriptionRecord]:
        """Every subscription (a household has a handful)."""
        rows = await self._conn.fetchall("SELECT * FROM push_subscriptions ORDER BY id")
        return [_record(r) for r in rows]

    async def update(
        self,
        subscription_id: int,
        at: datetime,
        label: str | None = None,
        prefs: dict[str, Any] | None = None,
    ) -> PushSubscriptionRecord | None:
        """Change a subscription's label and/or preferences; None if it is gone."""
        await self._conn.execute(
            """UPDATE push_subscriptions SET label = COALESCE(?, label),
                 prefs = COALESCE(?, prefs), updated_at = ? WHERE id = ?""",
            (label, None if prefs is None else json.dumps(prefs), to_db(at), subscription_id),
        )
        return await self.get(subscription_id)

    async def delete(self, subscription_id: int) -> bool:
        """Forget a subscription."""
        outcome = await self._conn.execute(
            "DELETE FROM push_subscriptions WHERE id = ?", (subscription_id,)
        )
        return outcome.rowcount > 0

    async def delete_gone(self, subscription_id: int, endpoint: str, p256dh: str) -> bool:
        """Forget a subscription the push service called gone, unless the device subscribed
        again (other keys) since the message was sent."""
        outcome = await self._conn.execute(
            "DELETE FROM push_subscriptions WHERE id = ? AND endpoint = ? AND p256dh = ?",
            (subscription_id, endpoint, p256dh),
        )
        return outcome.rowcount > 0

    async def record_success(self, subscription_id: int, at: datetime) -> None:
        """A push service accepted a message for this subscription."""
        await self._conn.execute(
            """UPDATE push_subscriptions SET last_success_at = ?, last_error = NULL,
                 last_error_at = NULL WHERE id = ?""",
            (to_db(at), subscription_id),
        )

    async def record_error(self, subscription_id: int, error: str, at: datetime) -> None:
        """A message for this subscription was not accepted (`error` says why, for people)."""
        await self._conn.execute(
            "UPDATE push_subscriptions SET last_error = ?, last_error_at = ? WHERE id = ?",
            (error[:200], to_db(at), subscription_id),
        )
