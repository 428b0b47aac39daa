"""Evidence packages: one file per delivery, and the expiring, counted grant it is fetched by."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, maybe_from_db, to_db


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """A package row; `file` is relative to the packages directory."""

    id: str
    request_id: str
    state: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    max_downloads: int
    token_hash: str | None = None
    downloads: int = 0
    error: str | None = None
    file: str | None = None
    size_bytes: int = 0
    sha256: str | None = None
    manifest_sha256: str | None = None
    revoked_at: datetime | None = None
    ended_at: datetime | None = None
    decision: dict[str, Any] = field(default_factory=dict)
    """What it is made from (JSON-ready); empty for packages made before it was kept."""


def _record(row: sqlite3.Row) -> PackageRecord:
    return PackageRecord(
        id=row["id"], request_id=row["request_id"], state=row["state"],
        created_at=from_db(row["created_at"]), created_by=row["created_by"],
        expires_at=from_db(row["expires_at"]), max_downloads=row["max_downloads"],
        token_hash=row["token_hash"], downloads=row["downloads"], error=row["error"],
        file=row["file"], size_bytes=row["size_bytes"], sha256=row["sha256"],
        manifest_sha256=row["manifest_sha256"], revoked_at=maybe_from_db(row["revoked_at"]),
        ended_at=maybe_from_db(row["ended_at"]), decision=json.loads(row["decision"]),
    )  # fmt: skip


class EvidencePackageRepository(Repository):
    """Reads and writes `evidence_packages` (durable: a grant's end must survive a power cut)."""

    durable = True

    async def add(self, package: PackageRecord) -> None:
        """Store a package that is being built, with its grant."""
        p = package
        await self._conn.execute(
            """INSERT INTO evidence_packages (id, request_id, state, created_at, created_by,
                   token_hash, expires_at, max_downloads, decision)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (p.id, p.request_id, p.state, to_db(p.created_at), p.created_by, p.token_hash,
             to_db(p.expires_at), p.max_downloads, json.dumps(p.decision, sort_keys=True)),
        )  # fmt: skip

    async def built(
        self, package_id: str, file: str, size: int, sha256: str, manifest_sha256: str
    ) -> None:
        """The package's file is complete."""
        await self._conn.execute(
            """UPDATE evidence_packages SET state = 'ready', file = ?, size_bytes = ?,
                   sha256 = ?, manifest_sha256 = ? WHERE id = ?""",
            (file, size, sha256, manifest_sha256, package_id),
        )

    async def failed(self, package_id: str, error: str) -> None:
        """The package could not be built."""
        await self._conn.execute(
            "UPDATE evidence_packages SET state = 'failed', error = ? WHERE id = ?",
            (error[:300], package_id),
        )

    async def building(self) -> list[PackageRecord]:
        """Packages marked as being made (at start: those a stop interrupted)."""
        rows = await self._conn.fetchall(
            "SELECT * FROM evidence_packages WHERE state = 'building' ORDER BY created_at"
        )
        return [_record(r) for r in rows]

    async def make_again(self, package_id: str) -> bool:
        """Mark a failed package as being made again, if its grant has not ended (atomic: two
        clicks start one build)."""
        outcome = await self._conn.execute(
            """UPDATE evidence_packages SET state = 'building', error = NULL
               WHERE id = ? AND state = 'failed' AND revoked_at IS NULL AND ended_at IS NULL""",
            (package_id,),
        )
        return outcome.rowcount == 1

    async def get(self, package_id: str) -> PackageRecord | None:
        """One package."""
        row = await self._conn.fetchone("SELECT * FROM evidence_packages WHERE id = ?",
                                        (package_id,))  # fmt: skip
        return None if row is None else _record(row)

    async def by_token(self, token_hash: str) -> PackageRecord | None:
        """The package a grant's token opens."""
        row = await self._conn.fetchone(
            "SELECT * FROM evidence_packages WHERE token_hash = ?", (token_hash,)
        )
        return None if row is None else _record(row)

    async def of_request(self, request_id: str) -> list[PackageRecord]:
        """A request's packages, oldest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM evidence_packages WHERE request_id = ? ORDER BY created_at",
            (request_id,),
        )
        return [_record(r) for r in rows]

    async def count_download(self, package_id: str, now: datetime) -> bool:
        """Count one download if the grant still allows one at `now`; False if not (atomic:
        a burst of parallel downloads cannot pass the limit)."""
        outcome = await self._conn.execute(
            """UPDATE evidence_packages SET downloads = downloads + 1
               WHERE id = ? AND state = 'ready' AND revoked_at IS NULL AND ended_at IS NULL
                 AND expires_at > ? AND downloads < max_downloads""",
            (package_id, to_db(now)),
        )
        return outcome.rowcount == 1

    async def revoke(self, package_id: str, now: datetime) -> bool:
        """End a package's grant now; False if it had already ended."""
        outcome = await self._conn.execute(
            "UPDATE evidence_packages SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (to_db(now), package_id),
        )
        return outcome.rowcount == 1

    async def end_expired(self, now: datetime) -> list[PackageRecord]:
        """Mark grants past their expiry ended (kept whatever the clock does later)."""
        rows = await self._conn.fetchall(
            "SELECT * FROM evidence_packages WHERE ended_at IS NULL AND expires_at <= ?",
            (to_db(now),),
        )
        if rows:
            await self._conn.executemany(
                "UPDATE evidence_packages SET ended_at = ? WHERE id = ?",
                [(to_db(now), r["id"]) for r in rows],
            )
        return [_record(r) for r in rows]
