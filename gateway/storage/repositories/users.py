"""User accounts (owner, residents, neighbours, agencies); passwords only as argon2 hashes."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, inserted_id, to_db

ROLES = ("owner", "resident", "neighbour", "agency")


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user row; `password_hash` is an argon2id encoded hash, never a password."""

    id: int
    username: str
    password_hash: str
    role: str
    created_at: datetime
    disabled: bool = False
    totp_secret: bytes | None = None
    """Sealed by the caller; None until the user has enrolled a second factor."""
    totp_last_step: int = 0
    must_change_password: bool = False
    """Set by the owner's password reset: the user chooses a new one at the next sign-in."""


def _record(row: sqlite3.Row) -> UserRecord:
    return UserRecord(
        id=row["id"],
        username=row["username"],
        password_hash=row["password_hash"],
        role=row["role"],
        created_at=from_db(row["created_at"]),
        disabled=bool(row["disabled"]),
        totp_secret=None if row["totp_secret"] is None else bytes(row["totp_secret"]),
        totp_last_step=row["totp_last_step"],
        must_change_password=bool(row["must_change_password"]),
    )


class UserRepository(Repository):
    """Reads and writes the `users` table (on the durable connection: accounts must not vanish)."""

    durable = True

    async def add(self, username: str, password_hash: str, role: str, created_at: datetime) -> int:
        """Create an account and return its id; raises `Conflict` on a taken name."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        outcome = await self._conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
            (username, password_hash, role, to_db(created_at)),
        )
        return inserted_id(outcome.lastrowid)

    async def by_username(self, username: str) -> UserRecord | None:
        """One account by name (case-insensitive)."""
        row = await self._conn.fetchone("SELECT * FROM users WHERE username = ?", (username,))
        return None if row is None else _record(row)

    async def list(self) -> list[UserRecord]:
        """Every account, by name."""
        return [
            _record(r) for r in await self._conn.fetchall("SELECT * FROM users ORDER BY username")
        ]

    async def set_password_hash(
        self, user_id: int, password_hash: str, must_change: bool = False
    ) -> bool:
        """Replace an account's password hash (after a change, a reset or a rehash);
        `must_change`: the user has to choose a new one at the next sign-in."""
        outcome = await self._conn.execute(
            "UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?",
            (password_hash, int(must_change), user_id),
        )
        return outcome.rowcount > 0

    async def by_id(self, user_id: int) -> UserRecord | None:
        """One account by id."""
        row = await self._conn.fetchone("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else _record(row)

    async def count_role(self, role: str) -> int:
        """How many enabled accounts have this role."""
        row = await self._conn.fetchone(
            "SELECT COUNT(*) FROM users WHERE role = ? AND disabled = 0", (role,)
        )
        return int(row[0]) if row else 0

    async def set_role(self, user_id: int, role: str) -> bool:
        """Change an account's role."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        outcome = await self._conn.execute(
            "UPDATE users SET role = ? WHERE id = ?", (role, user_id)
        )
        return outcome.rowcount > 0

    async def set_totp(self, user_id: int, sealed_secret: bytes | None) -> bool:
        """Store (or clear) an account's sealed TOTP secret."""
        outcome = await self._conn.execute(
            "UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?",
            (sealed_secret, user_id),
        )
        return outcome.rowcount > 0

    async def use_totp_step(self, user_id: int, step: int) -> bool:
        """Record a used TOTP time step; False if it (or a later one) was used before (replay)."""
        outcome = await self._conn.execute(
            "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
            (step, user_id, step),
        )
        return outcome.rowcount > 0

    async def delete(self, user_id: int) -> bool:
        """Delete an account (its sessions and grants go with it)."""
        outcome = await self._conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return outcome.rowcount > 0

    async def grants(self, user_id: int) -> set[str]:
        """Camera ids a resident may see."""
        rows = await self._conn.fetchall(
            "SELECT camera_id FROM camera_grants WHERE user_id = ?", (user_id,)
        )
        return {r[0] for r in rows}

    async def missing_cameras(self, camera_ids: set[str]) -> set[str]:
        """Which of these camera ids no camera has (grants can only name existing cameras)."""
        found = set()
        for camera_id in camera_ids:
            row = await self._conn.fetchone("SELECT 1 FROM cameras WHERE id = ?", (camera_id,))
            if row is not None:
                found.add(camera_id)
        return camera_ids - found

    async def set_grants(self, user_id: int, camera_ids: set[str]) -> None:
        """Replace the cameras a resident may see."""
        async with self._conn.transaction() as tx:
            await tx.execute("DELETE FROM camera_grants WHERE user_id = ?", (user_id,))
            await tx.executemany(
                "INSERT INTO camera_grants (user_id, camera_id) VALUES (?, ?)",
                [(user_id, c) for c in sorted(camera_ids)],
            )

    async def set_disabled(self, user_id: int, disabled: bool) -> bool:
        """Disable or re-enable an account."""
        outcome = await self._conn.execute(
            "UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id)
        )
        return outcome.rowcount > 0

    async def replace_recovery_codes(
        self, user_id: int, code_hashes: Sequence[str], created_at: datetime
    ) -> None:
        """Replace an account's recovery codes (hashes only) in one transaction; an empty list
        removes them all."""
        async with self._conn.transaction() as tx:
            await tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
            await tx.executemany(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)",
                [(user_id, h, to_db(created_at)) for h in code_hashes],
            )

    async def unused_recovery_codes(self, user_id: int) -> builtins.list[str]:
        """The hashes of an account's recovery codes not used yet."""
        rows = await self._conn.fetchall(
            "SELECT code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
            (user_id,),
        )
        return [r[0] for r in rows]

    async def use_recovery_code(self, user_id: int, code_hash: str, used_at: datetime) -> bool:
        """Mark a code used; False if it was used already (two sign-ins racing with one code:
        the conditional update lets exactly one of them through)."""
        outcome = await self._conn.execute(
            """UPDATE recovery_codes SET used_at = ?
               WHERE user_id = ? AND code_hash = ? AND used_at IS NULL""",
            (to_db(used_at), user_id, code_hash),
        )
        return outcome.rowcount > 0

    async def clear_second_factor(self, user_id: int) -> bool:
        """Remove an account's TOTP secret and every recovery code, in one transaction."""
        async with self._conn.transaction() as tx:
            outcome = await tx.execute(
                "UPDATE users SET totp_secret = NULL, totp_last_step = 0 WHERE id = ?", (user_id,)
            )
            await tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        return outcome.rowcount > 0
