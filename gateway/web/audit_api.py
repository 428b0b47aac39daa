"""Audit log API (owner only): read and filter the log, each row also in words (checking it
is audit_checkpoints_api's)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.audit import AuditEntry, AuditLog
from doorstep.gateway.audit.sentences import CALL_START, Names, summarize, unpaired_call_ends
from doorstep.gateway.storage import Storage
from doorstep.gateway.web.keys import AUDIT, REFUSALS, STORAGE
from doorstep.gateway.web.policy import json_error

MAX_START_LOOKUPS = 10
"""Call ends on a page whose start is on an older one: at most this many starts are looked up."""


class AuditRow(BaseModel):
    """One audited access or change."""

    seq: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    ip: str
    detail: dict[str, Any]
    summary: str = Field(
        description="The row in plain words, with camera and account names (detail has the rest)."
    )
    related_seq: int | None = Field(
        description="The row this one pairs with: a live call's start for its end, and back."
    )


class AuditPage(BaseModel):
    """Newest first; pass the last `seq` as `before` for the next page."""

    rows: list[AuditRow]


async def list_audit(request: web.Request) -> web.Response:
    """GET /api/audit?actor=&action=&target=&since=&until=&before=&limit=."""
    query = request.query
    try:
        before = int(query["before"]) if "before" in query else None
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", "before or limit is malformed"
        ) from None
    refusals = request.app.get(REFUSALS)
    if refusals is not None:
        await refusals.flush()  # the owner reads the log as it stands now, refusals included
    entries = await request.app[AUDIT].query(
        actor=query.get("actor") or None, action=query.get("action") or None,
        target=query.get("target") or None, since=query.get("since") or None,
        until=query.get("until") or None, before_seq=before, limit=limit,
    )  # fmt: skip
    storage = request.app[STORAGE]
    summaries = summarize(
        entries, await _names(storage), await _call_starts(request.app[AUDIT], entries)
    )
    rows = [
        AuditRow(seq=e.seq, at=e.at, actor=e.actor, action=e.action, target=e.target,
                 outcome=e.outcome, ip=e.ip, detail=dict(e.detail), summary=summary.text,
                 related_seq=summary.related_seq)
        for e, summary in zip(entries, summaries, strict=True)
    ]  # fmt: skip
    return web.json_response(AuditPage(rows=rows).model_dump())


async def _names(storage: Storage) -> Names:
    cameras = {camera.id: camera.name for camera in await storage.cameras.list()}
    users = {user.id: user.username for user in await storage.users.list()}
    return Names(cameras, users)


async def _call_starts(audit: AuditLog, entries: list[AuditEntry]) -> list[AuditEntry]:
    """The starts of the calls that end on this page but began on an older one."""
    found: list[AuditEntry] = []
    for end in unpaired_call_ends(entries)[:MAX_START_LOOKUPS]:
        found += await audit.query(
            actor=end.actor, action=CALL_START, target=end.target, before_seq=end.seq, limit=20
        )
    return found
