"""Police footage requests as received and checked, the owner's decisions, the clips granted
and the signed consent receipts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep.gateway.storage.errors import Conflict
from doorstep.gateway.storage.repositories._base import Repository
from doorstep.gateway.storage.repositories._time import from_db, inserted_id, maybe_from_db, to_db

OPEN_STATUSES = ("pending", "granted", "partial", "declined", "expired")
"""Requests that count towards a case's two (a refused one never reached the owner)."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A request row; `form` holds the request's own fields, as checked."""

    id: str
    received_at: datetime
    channel: str
    original_sha256: str
    agency_id: int | None
    agency_name: str
    verification: str
    case_number: str
    case_key: str
    form: dict[str, Any]
    status: str
    expires_at: datetime
    received_by: str
    area_m2: float | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    refused_field: str | None = None
    refused_reason: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    private_note: str | None = None
    first_audit_seq: int | None = None
    last_audit_seq: int | None = None


@dataclass(frozen=True, slots=True)
class RequestItemRecord:
    """One granted clip: the trim, audio, masks and the master as it was when granted."""

    request_id: str
    clip_id: str
    position: int
    audio: bool
    master_path: str
    master_sha256: str
    start_ms: int = 0
    end_ms: int | None = None
    masks: tuple[dict[str, Any], ...] = ()
    original: bool = False
    """Also hand over the master as recorded (a grant without changes is the master anyway)."""


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    """A signed consent receipt: `body` is the canonical JSON the signature covers."""

    id: int
    request_id: str
    at: datetime
    body: str
    signature: str
    key_fingerprint: str


def _request(row: sqlite3.Row) -> RequestRecord:
    return RequestRecord(
        id=row["id"], received_at=from_db(row["received_at"]), channel=row["channel"],
        original_sha256=row["original_sha256"], agency_id=row["agency_id"],
        agency_name=row["agency_name"], verification=row["verification"],
        case_number=row["case_number"], case_key=row["case_key"], form=json.loads(row["form"]),
        status=row["status"], expires_at=from_db(row["expires_at"]),
        received_by=row["received_by"], area_m2=row["area_m2"],
        window_start=maybe_from_db(row["window_start"]),
        window_end=maybe_from_db(row["window_end"]), checks=json.loads(row["checks"]),
        flags=json.loads(row["flags"]), related=json.loads(row["related"]),
        refused_field=row["refused_field"], refused_reason=row["refused_reason"],
        decided_at=maybe_from_db(row["decided_at"]), decided_by=row["decided_by"],
        private_note=row["private_note"], first_audit_seq=row["first_audit_seq"],
        last_audit_seq=row["last_audit_seq"],
    )  # fmt: skip


def _item(row: sqlite3.Row) -> RequestItemRecord:
    return RequestItemRecord(
        row["request_id"], row["clip_id"], row["position"], bool(row["audio"]),
        row["master_path"], row["master_sha256"], row["start_ms"], row["end_ms"],
        tuple(json.loads(row["masks"])), bool(row["original"]),
    )  # fmt: skip


def _receipt(row: sqlite3.Row) -> ReceiptRecord:
    return ReceiptRecord(row["id"], row["request_id"], from_db(row["at"]), row["body"],
                         row["signature"], row["key_fingerprint"])  # fmt: skip


def _maybe(moment: datetime | None) -> str | None:
    return None if moment is None else to_db(moment)


class PoliceRequestRepository(Repository):
    """Reads and writes the request tables (durable: each row is part of the evidence)."""

    durable = True

    async def add(self, record: RequestRecord, original: bytes) -> None:
        """Store a request as received, with the bytes it came as."""
        r = record
        async with self._conn.transaction() as tx:
            await tx.execute(
                """INSERT INTO police_requests (id, received_at, channel, original_sha256,
                       original, agency_id, agency_name, verification, case_number, case_key,
                       form, area_m2, window_start, window_end, checks, flags, related, status,
                       refused_field, refused_reason, expires_at, received_by, first_audit_seq)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    r.id, to_db(r.received_at), r.channel, r.original_sha256, original,
                    r.agency_id, r.agency_name, r.verification, r.case_number, r.case_key,
                    json.dumps(r.form, sort_keys=True), r.area_m2, _maybe(r.window_start),
                    _maybe(r.window_end), json.dumps(r.checks), json.dumps(r.flags),
                    json.dumps(r.related), r.status, r.refused_field, r.refused_reason,
                    to_db(r.expires_at), r.received_by, r.first_audit_seq,
                ),
            )  # fmt: skip

    async def get(self, request_id: str) -> RequestRecord | None:
        """One request."""
        row = await self._conn.fetchone("SELECT * FROM police_requests WHERE id = ?",
                                        (request_id,))  # fmt: skip
        return None if row is None else _request(row)

    async def original(self, request_id: str) -> bytes | None:
        """The bytes a request came as."""
        row = await self._conn.fetchone(
            "SELECT original FROM police_requests WHERE id = ?", (request_id,)
        )
        return None if row is None else bytes(row["original"])

    async def of_case(self, agency_name: str, key: str) -> list[RequestRecord]:
        """The requests an agency made for one case, oldest first (refused ones too)."""
        rows = await self._conn.fetchall(
            "SELECT * FROM police_requests WHERE agency_name = ? AND case_key = ? "
            "ORDER BY received_at", (agency_name, key),
        )  # fmt: skip
        return [_request(r) for r in rows]

    async def page(
        self, *, agency_id: int | None = None, since: datetime | None = None,
        until: datetime | None = None, limit: int = 200,
    ) -> list[RequestRecord]:  # fmt: skip
        """Requests newest first, optionally one agency's or received in [since, until)."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if agency_id is not None:
            where.append("agency_id = ?")
            params.append(agency_id)
        if since is not None:
            where.append("received_at >= ?")
            params.append(to_db(since))
        if until is not None:
            where.append("received_at < ?")
            params.append(to_db(until))
        rows = await self._conn.fetchall(
            f"SELECT * FROM police_requests WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY received_at DESC LIMIT ?", (*params, limit),
        )  # fmt: skip
        return [_request(r) for r in rows]

    async def decide(
        self, request_id: str, status: str, by: str, now: datetime, note: str | None,
        items: Sequence[RequestItemRecord], last_seq: int | None = None,
    ) -> None:  # fmt: skip
        """Record the owner's decision and the clips granted; `Conflict` unless pending."""
        async with self._conn.transaction() as tx:
            cursor = await tx.execute(
                """UPDATE police_requests SET status = ?, decided_at = ?, decided_by = ?,
                       private_note = ?, last_audit_seq = COALESCE(?, last_audit_seq)
                   WHERE id = ? AND status = 'pending'""",
                (status, to_db(now), by, note, last_seq, request_id),
            )
            if not cursor.rowcount:
                raise Conflict(f"request {request_id} is not waiting for a decision")
            await tx.executemany(
                """INSERT INTO request_items (request_id, clip_id, position, start_ms, end_ms,
                       audio, masks, master_path, master_sha256, original)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [(i.request_id, i.clip_id, i.position, i.start_ms, i.end_ms, int(i.audio),
                  json.dumps(list(i.masks)), i.master_path, i.master_sha256, int(i.original))
                 for i in items],
            )  # fmt: skip

    async def expire(self, now: datetime) -> list[str]:
        """Mark pending requests past their answer-by date expired; returns their ids."""
        rows = await self._conn.fetchall(
            "SELECT id FROM police_requests WHERE status = 'pending' AND expires_at <= ?",
            (to_db(now),),
        )
        ids = [r["id"] for r in rows]
        if ids:
            async with self._conn.transaction() as tx:
                await tx.executemany(
                    "UPDATE police_requests SET status = 'expired', decided_at = ? "
                    "WHERE id = ? AND status = 'pending'", [(to_db(now), i) for i in ids],
                )  # fmt: skip
        return ids

    async def note_audit(self, request_id: str, seq: int) -> None:
        """Move the request's last audit row forward (first is set when it is stored)."""
        await self._conn.execute(
            "UPDATE police_requests SET last_audit_seq = max(COALESCE(last_audit_seq, 0), ?), "
            "first_audit_seq = COALESCE(first_audit_seq, ?) WHERE id = ?", (seq, seq, request_id),
        )  # fmt: skip

    async def items(self, request_id: str) -> list[RequestItemRecord]:
        """The clips granted for a request, in order."""
        rows = await self._conn.fetchall(
            "SELECT * FROM request_items WHERE request_id = ? ORDER BY position", (request_id,)
        )
        return [_item(r) for r in rows]

    async def add_receipt(
        self, request_id: str, at: datetime, body: str, signature: str, fingerprint: str
    ) -> ReceiptRecord:
        """Keep a signed consent receipt."""
        async with self._conn.transaction() as tx:
            cursor = await tx.execute(
                """INSERT INTO consent_receipts (request_id, at, body, signature, key_fingerprint)
                   VALUES (?, ?, ?, ?, ?)""",
                (request_id, to_db(at), body, signature, fingerprint),
            )
            receipt_id = inserted_id(cursor.lastrowid)
        return ReceiptRecord(receipt_id, request_id, at, body, signature, fingerprint)

    async def receipts(self, request_id: str) -> list[ReceiptRecord]:
        """A request's consent receipts, oldest first."""
        rows = await self._conn.fetchall(
            "SELECT * FROM consent_receipts WHERE request_id = ? ORDER BY id", (request_id,)
        )
        return [_receipt(r) for r in rows]
