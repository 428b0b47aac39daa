"""Audit log API (owner only): read and filter the log, and verify its hash chain."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from doorstep.gateway.web.keys import AUDIT, REFUSALS
from doorstep.gateway.web.policy import json_error


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


class AuditPage(BaseModel):
    """Newest first; pass the last `seq` as `before` for the next page."""

    rows: list[AuditRow]


class AuditVerification(BaseModel):
    """The chain check: ok, or the first row that does not fit."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str


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
    rows = [
        AuditRow(seq=e.seq, at=e.at, actor=e.actor, action=e.action, target=e.target,
                 outcome=e.outcome, ip=e.ip, detail=dict(e.detail))
        for e in entries
    ]  # fmt: skip
    return web.json_response(AuditPage(rows=rows).model_dump())


async def verify_audit(request: web.Request) -> web.Response:
    """GET /api/audit/verify."""
    result = await request.app[AUDIT].verify()
    view = AuditVerification(
        ok=result.ok,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
    )
    return web.json_response(view.model_dump())
