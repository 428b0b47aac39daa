"""Audit checkpoints API (owner only): the full check (chain, signed checkpoints, one the owner
kept), checkpoints to download and keep off the box, the signing key, inclusion proofs."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.audit.notes import (
    MAX_NOTE,
    Checkpoint,
    NoteError,
    origin_for,
    parse_checkpoint,
)
from doorstep.gateway.audit.proofs import ProofUnavailable, make_proof
from doorstep.gateway.audit.verify import AuditReport, verify_database
from doorstep.gateway.storage import open_snapshot
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import body_of
from doorstep.gateway.web.keys import AUDIT, CHECKPOINTS, REFUSALS, STORAGE
from doorstep.gateway.web.policy import Access, json_error

SIZE = {"type": "string", "pattern": "^[0-9]{1,12}$"}
_MAX_SIZE = 10**12 - 1


def _count(text: str) -> int | None:
    """A row count or sequence number as the API accepts it (1 to 12 digits), else None."""
    if not (1 <= len(text) <= 12 and text.isascii() and text.isdigit()):
        return None
    return int(text)


class AuditVerification(BaseModel):
    """The whole check: ok, or every problem and the first bad row."""

    ok: bool
    checked: int = Field(description="Rows read.")
    first_bad_seq: int | None
    reason: str = Field(description="The problem behind first_bad_seq.")
    problems: list[str]
    checkpoints: int = Field(description="Stored checkpoints checked.")
    saved: int = Field(description="Saved checkpoints checked (0 or 1).")
    newest_checkpoint: int = Field(description="Rows the newest stored checkpoint covers.")
    key_fingerprint: str


class SavedCheckpoint(BaseModel):
    """A checkpoint the owner downloaded earlier, to hold the log to."""

    checkpoint: str = Field(min_length=1, max_length=MAX_NOTE)


class CheckpointSummary(BaseModel):
    """One signed checkpoint."""

    size: int
    at: str
    root: str
    fingerprint: str


class CheckpointQuery(BaseModel):
    """The paging of GET /api/audit/checkpoints (documentation)."""

    before: int | None = Field(
        None, ge=0, le=_MAX_SIZE, description="Checkpoints of fewer rows than this"
    )


class CheckpointList(BaseModel):
    """Newest first; pass the last `size` as `before` for the next page."""

    checkpoints: list[CheckpointSummary]


class SigningKeyView(BaseModel):
    """The gateway's public signing key: pin its fingerprint off the box."""

    fingerprint: str
    vkey: str = Field(description="C2SP verifier key (name+id+key).")
    pem: str


def _view(report: AuditReport) -> dict[str, Any]:
    return AuditVerification(
        ok=report.ok, checked=report.rows, first_bad_seq=report.first_bad_seq,
        reason=report.reason, problems=[p.text for p in report.problems],
        checkpoints=report.checkpoints, saved=report.saved,
        newest_checkpoint=report.newest_checkpoint, key_fingerprint=report.key_fingerprint,
    ).model_dump()  # fmt: skip


async def _verify(request: web.Request, saved: list[Checkpoint]) -> web.Response:
    refusals = request.app.get(REFUSALS)
    if refusals is not None:
        await refusals.flush()
    key = request.app[CHECKPOINTS].key.public
    report = await asyncio.to_thread(verify_database, request.app[AUDIT].file_path(), key, saved)
    return web.json_response(_view(report))


async def verify_audit(request: web.Request) -> web.Response:
    """GET /api/audit/verify: the chain and every stored checkpoint."""
    return await _verify(request, [])


async def verify_against(request: web.Request) -> web.Response:
    """POST /api/audit/verify: also against a checkpoint the owner kept."""
    body = await body_of(request, SavedCheckpoint)
    try:
        saved = parse_checkpoint(body.checkpoint)
    except NoteError as exc:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", f"checkpoint: {exc}") from None
    return await _verify(request, [saved])


async def list_checkpoints(request: web.Request) -> web.Response:
    """GET /api/audit/checkpoints?before=."""
    before = None
    if "before" in request.query:
        before = _count(request.query["before"])
        if before is None:
            why = f"before must be a whole number from 0 to {_MAX_SIZE}"
            raise json_error(web.HTTPUnprocessableEntity, "invalid", why)
    records = await request.app[STORAGE].audit_checkpoints.page(before)
    rows = [CheckpointSummary(size=r.size, at=r.at, root=r.root, fingerprint=r.fingerprint)
            for r in records]  # fmt: skip
    return web.json_response(CheckpointList(checkpoints=rows).model_dump())


def _note_response(note: str, size: int) -> web.Response:
    return web.Response(
        text=note, content_type="text/plain", charset="utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="doorstep-audit-checkpoint-{size}.txt"'},
    )  # fmt: skip


async def get_checkpoint(request: web.Request) -> web.Response:
    """GET /api/audit/checkpoints/{size}: the signed note, to keep off the box."""
    size = _count(request.match_info["size"])
    record = None if size is None else await request.app[STORAGE].audit_checkpoints.covering(size)
    if record is None or record.size != size:
        raise json_error(web.HTTPNotFound, "not_found", "no checkpoint of that size")
    return _note_response(record.note, record.size)


async def make_checkpoint(request: web.Request) -> web.Response:
    """POST /api/audit/checkpoints: sign one covering every row now."""
    record = await request.app[CHECKPOINTS].checkpoint_now()
    if record is None:
        why = "no checkpoint signed: the log is empty or its chain is broken"
        raise json_error(web.HTTPConflict, "conflict", why)
    summary = CheckpointSummary(
        size=record.size, at=record.at, root=record.root, fingerprint=record.fingerprint
    )
    return web.json_response(summary.model_dump(), status=201)


async def signing_key(request: web.Request) -> web.Response:
    """GET /api/audit/key."""
    key = request.app[CHECKPOINTS].key.public
    view = SigningKeyView(
        fingerprint=key.fingerprint, vkey=key.vkey(origin_for(key)), pem=key.pem()
    )
    return web.json_response(view.model_dump())


async def audit_proof(request: web.Request) -> web.Response:
    """GET /api/audit/proof/{seq}: one row's inclusion proof against a checkpoint."""
    seq = _count(request.match_info["seq"])
    if seq is None:
        raise json_error(web.HTTPNotFound, "not_found", "no audit row of that number")

    def prove() -> dict[str, Any]:
        with open_snapshot(request.app[AUDIT].file_path()) as snapshot:
            return make_proof(snapshot, seq)

    try:
        proof = await asyncio.to_thread(prove)
    except ProofUnavailable as exc:
        raise json_error(web.HTTPNotFound, "not_found", str(exc)) from None
    return web.json_response(proof)


def add_checkpoint_routes(app: web.Application) -> None:
    """Register the verification and checkpoint routes."""
    owner, one = Access.OWNER, {"size": SIZE}
    add_api_route(app, "GET", "/api/audit/verify", verify_audit, access=owner,
                  summary="Check the audit log: hash chain and signed checkpoints",
                  response=AuditVerification)  # fmt: skip
    add_api_route(app, "POST", "/api/audit/verify", verify_against, access=owner,
                  summary="Check the audit log against a checkpoint you kept",
                  request=SavedCheckpoint, response=AuditVerification, errors=(422,))  # fmt: skip
    add_api_route(app, "GET", "/api/audit/checkpoints", list_checkpoints, access=owner,
                  summary="Signed checkpoints, newest first", response=CheckpointList,
                  query=CheckpointQuery, errors=(422,))  # fmt: skip
    add_api_route(app, "POST", "/api/audit/checkpoints", make_checkpoint, access=owner,
                  summary="Sign a checkpoint now", response=CheckpointSummary, status=201,
                  errors=(409,))  # fmt: skip
    add_api_route(app, "GET", "/api/audit/checkpoints/{size}", get_checkpoint, access=owner,
                  summary="One checkpoint as a signed note (text)", media_type="text/plain",
                  path_params=one, errors=(404,))  # fmt: skip
    add_api_route(app, "GET", "/api/audit/key", signing_key, access=owner,
                  summary="The gateway's public signing key", response=SigningKeyView)  # fmt: skip
    add_api_route(app, "GET", "/api/audit/proof/{seq}", audit_proof, access=owner,
                  summary="A row's inclusion proof against a signed checkpoint",
                  path_params={"seq": SIZE}, errors=(404,))  # fmt: skip
