"""Police requests API for the owner: the agencies, requests typed in or uploaded signed, each
request with its checks and matching clips, the per-clip decision, and the grant's end."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.auth import AuthError
from doorstep.gateway.evidence.intake import Source
from doorstep.gateway.evidence.request_form import RequestRefused
from doorstep.gateway.evidence.service import ClipGrant, Decision, DecisionRefused
from doorstep.gateway.evidence.signed_requests import SignatureRefused, open_signed
from doorstep.gateway.evidence.transparency import report_body, sign_report
from doorstep.gateway.keys.signing import VerifyKey
from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.storage import AgencyRecord, Conflict, RequestRecord
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import auth_failure, body_of, principal_of
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, CHECKPOINTS, EVIDENCE, SHARES, STORAGE
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.request_views import (
    AgencyView,
    DownloadView,
    RequestDetail,
    RequestList,
    RequestSummary,
    agency_view,
    detail,
    summary,
)
from doorstep.gateway.web.session import client_ip

ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}
MAX_REQUEST = 64 * 1024


class NewAccount(BaseModel):
    """The agency's own account on this box (a second factor is required at first sign-in)."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class NewAgency(BaseModel):
    """An agency the owner adds, with how it was verified."""

    name: str = Field(min_length=1, max_length=120)
    verification: Literal["in_person", "email_domain", "signed_key", "unverified"]
    verification_note: str = Field("", max_length=500, description="Who checked, how, when.")
    public_key: str | None = Field(None, max_length=2000, description="Ed25519 (signed files).")
    contact: str = Field("", max_length=200)
    account: NewAccount | None = None


class AgencyList(BaseModel):
    """Every agency the owner added."""

    agencies: list[AgencyView]


class TypedRequest(BaseModel):
    """A request the owner types in from an e-mail or a letter."""

    channel: Literal["email", "paper"]
    agency_id: int
    request: dict[str, Any]


class SignedUpload(BaseModel):
    """A request file signed with the agency's pinned key."""

    agency_id: int
    file: str = Field(max_length=MAX_REQUEST)


class MaskBody(BaseModel):
    """A privacy mask, in fractions of the picture."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)
    style: Literal["black", "blur"] = "black"


class GrantBody(BaseModel):
    """One clip granted."""

    clip_id: str = Field(max_length=64)
    trim_to_window: bool = True
    audio: bool = False
    masks: list[MaskBody] = Field(default_factory=list, max_length=8)
    original: bool = Field(
        False,
        description="Also hand over the recording as made (whole, "
        "with sound, unmasked); else a changed copy goes alone.",
    )


class DecisionBody(BaseModel):
    """The owner's decision: the clips granted (maybe none), those declined, a private note."""

    grants: list[GrantBody] = Field(default_factory=list, max_length=100)
    declined: list[str] = Field(default_factory=list, max_length=500)
    note: str | None = Field(None, max_length=2000, description="Private: never sent.")
    hold_days: int = Field(365, description="The legal hold on granted masters.")
    grant_hours: int = Field(72, description="How long the agency may download.")
    max_downloads: int = 3


class DecisionView(BaseModel):
    """The decision made; `link` (shown once) lets an agency without an account download."""

    request: RequestDetail
    link: str | None


async def _agency_of(request: web.Request, agency_id: int) -> AgencyRecord:
    agency = await request.app[STORAGE].agencies.get(agency_id)
    if agency is None:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "agency_id: no such agency")
    return agency


async def list_agencies(request: web.Request) -> web.Response:
    """GET /api/agencies."""
    names = {u.id: u.username for u, _ in await request.app[ACCOUNTS].list_users()}
    agencies = await request.app[STORAGE].agencies.all()
    views = [agency_view(a, names.get(a.user_id) if a.user_id else None) for a in agencies]
    return web.json_response(AgencyList(agencies=views).model_dump(mode="json"))


async def create_agency(request: web.Request) -> web.Response:
    """POST /api/agencies: add an agency (and its account)."""
    body = await body_of(request, NewAgency)
    key = None
    if body.public_key:
        try:
            key = VerifyKey.parse(body.public_key)
        except ValueError as exc:
            raise json_error(web.HTTPUnprocessableEntity, "invalid", f"public_key: {exc}") from None
    if body.verification == "signed_key" and key is None:
        why = "public_key: verified by signing key needs the agency's public key"
        raise json_error(web.HTTPUnprocessableEntity, "invalid", why)
    actor, ip = principal_of(request), client_ip(request)
    user_id, username = None, None
    if body.account is not None:
        try:
            user = await request.app[ACCOUNTS].create_user(
                actor, body.account.username, body.account.password, "agency", ip, set()
            )
        except AuthError as exc:
            raise auth_failure(exc) from None
        user_id, username = user.id, user.username
    stored_key = None if key is None else base64.b64encode(key.raw).decode()
    try:
        agency = await request.app[STORAGE].agencies.add(
            body.name.strip(), body.verification, body.verification_note.strip(), stored_key,
            body.contact.strip(), user_id, actor.username, datetime.now(UTC),
        )  # fmt: skip
    except Conflict as exc:
        raise json_error(web.HTTPConflict, "conflict", str(exc)) from None
    await request.app[AUDIT].append(
        actor.username, "agency.add", f"agency:{agency.id}", ip=ip,
        detail={"name": agency.name, "verification": agency.verification,
                "account": username, "key": key.fingerprint if key else None},
    )  # fmt: skip
    return web.json_response(agency_view(agency, username).model_dump(mode="json"), status=201)


def _refused(exc: RequestRefused) -> web.HTTPException:
    return json_error(web.HTTPUnprocessableEntity, "refused", f"{exc.field}: {exc.reason}")


async def _receive(request: web.Request, raw: bytes, data: Any, source: Source) -> web.Response:
    now = request.app[EVIDENCE].clock.now()
    try:
        record = await request.app[EVIDENCE].intake.receive(raw, data, source, now)
    except RequestRefused as exc:
        raise _refused(exc) from None
    return web.json_response(RequestSummary(**summary(record)).model_dump(mode="json"),
                             status=201)  # fmt: skip


async def type_in(request: web.Request) -> web.Response:
    """POST /api/requests: a request the owner received by e-mail or on paper."""
    body = await body_of(request, TypedRequest, MAX_REQUEST)
    agency = await _agency_of(request, body.agency_id)
    raw = json.dumps(body.request, sort_keys=True).encode()
    who = principal_of(request).username
    source = Source(body.channel, agency, agency.name, who, client_ip(request))
    return await _receive(request, raw, body.request, source)


async def upload_signed(request: web.Request) -> web.Response:
    """POST /api/requests/signed: a request file signed by the agency's pinned key."""
    body = await body_of(request, SignedUpload, MAX_REQUEST * 2)
    agency = await _agency_of(request, body.agency_id)
    if agency.public_key is None:
        why = "agency_id: this agency has no pinned key to check a signed file against"
        raise json_error(web.HTTPUnprocessableEntity, "invalid", why)
    raw = body.file.encode()
    try:
        data = open_signed(raw, VerifyKey.parse(agency.public_key))
    except SignatureRefused as exc:
        raise json_error(web.HTTPUnprocessableEntity, "refused", f"file: {exc}") from None
    who = principal_of(request).username
    source = Source("signed_file", agency, agency.name, who, client_ip(request))
    return await _receive(request, raw, data, source)


async def list_requests(request: web.Request) -> web.Response:
    """GET /api/requests."""
    records = await request.app[STORAGE].police_requests.page(limit=500)
    views = [RequestSummary(**summary(r)) for r in records]
    return web.json_response(RequestList(requests=views).model_dump(mode="json"))


async def _record(request: web.Request) -> RequestRecord:
    record = await request.app[STORAGE].police_requests.get(request.match_info["request_id"])
    if record is None:
        raise json_error(web.HTTPNotFound, "not_found", "no such request")
    return record


async def _detail(request: web.Request, record: RequestRecord) -> RequestDetail:
    storage, evidence = request.app[STORAGE], request.app[EVIDENCE]
    packages = await storage.evidence_packages.of_request(record.id)
    downloads = []
    for package in packages:
        for row in await request.app[AUDIT].query(action="evidence.download",
                                                  target=f"package:{package.id}"):  # fmt: skip
            via = str(row.detail.get("via", ""))
            downloads.append(DownloadView(at=row.at, via=via, ip=row.ip))
    granted = [i.clip_id for i in await storage.police_requests.items(record.id)]
    receipts = len(await storage.police_requests.receipts(record.id))
    return detail(record, await evidence.matching(record), granted, packages, downloads, receipts)


async def get_request(request: web.Request) -> web.Response:
    """GET /api/requests/{request_id}: the request, its checks and the clips it matches."""
    record = await _record(request)
    return web.json_response((await _detail(request, record)).model_dump(mode="json"))


async def decide(request: web.Request) -> web.Response:
    """POST /api/requests/{request_id}/decision: grant clips (or none), decline the rest."""
    record = await _record(request)
    body = await body_of(request, DecisionBody)
    decision = Decision(
        grants=tuple(ClipGrant(g.clip_id, g.trim_to_window, g.audio,
                               tuple(Mask(m.x, m.y, m.w, m.h, m.style) for m in g.masks),
                               g.original)
                     for g in body.grants),
        declined=tuple(body.declined), note=body.note, hold_days=body.hold_days,
        grant_hours=body.grant_hours, max_downloads=body.max_downloads,
    )  # fmt: skip
    who, ip = principal_of(request).username, client_ip(request)
    try:
        decided = await request.app[EVIDENCE].decide(record.id, decision, who, ip)
    except DecisionRefused as exc:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", str(exc)) from None
    except Conflict as exc:
        raise json_error(web.HTTPConflict, "conflict", str(exc)) from None
    link = None if decided.token is None else f"/api/evidence/{decided.token}"
    view = DecisionView(request=await _detail(request, decided.record), link=link)
    return web.json_response(view.model_dump(mode="json"))


async def revoke_grant(request: web.Request) -> web.Response:
    """DELETE /api/requests/{request_id}/packages/{package_id}: end its download grant now."""
    record = await _record(request)
    package = await request.app[STORAGE].evidence_packages.get(request.match_info["package_id"])
    if package is None or package.request_id != record.id:
        raise json_error(web.HTTPNotFound, "not_found", "no such package")
    await request.app[EVIDENCE].revoke(package.id, principal_of(request).username,
                                       client_ip(request))  # fmt: skip
    return web.json_response((await _detail(request, record)).model_dump(mode="json"))


async def make_again(request: web.Request) -> web.Response:
    """POST /api/requests/{request_id}/packages/{package_id}/retry: make a failed package again."""
    record = await _record(request)
    package = await request.app[STORAGE].evidence_packages.get(request.match_info["package_id"])
    if package is None or package.request_id != record.id:
        raise json_error(web.HTTPNotFound, "not_found", "no such package")
    try:
        await request.app[EVIDENCE].make_again(package.id, principal_of(request).username,
                                               client_ip(request))  # fmt: skip
    except Conflict as exc:
        raise json_error(web.HTTPConflict, "conflict", str(exc)) from None
    return web.json_response((await _detail(request, record)).model_dump(mode="json"))


class TransparencyQuery(BaseModel):
    """The period of a transparency report (documentation)."""

    since: datetime | None = Field(None, description="Default: a year before `until`")
    until: datetime | None = Field(None, description="Default: now")


class TransparencyView(BaseModel):
    """The report, signed: check `signature` (Ed25519, base64) over the report's canonical JSON
    (sorted keys, no spaces) with the key whose fingerprint is given."""

    report: dict[str, Any]
    signature: str
    key_fingerprint: str


def _moment(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", f"{name}: a date and time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def transparency(request: web.Request) -> web.Response:
    """GET /api/transparency?since=&until=: the household's signed transparency report."""
    now = datetime.now(UTC)
    until = _moment(request, "until") or now
    since = _moment(request, "since") or until - timedelta(days=365)
    if since >= until:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "since: before until")
    storage = request.app[STORAGE]
    records = await storage.police_requests.page(since=since, until=until, limit=100_000)
    granted = {r.id: len(await storage.police_requests.items(r.id)) for r in records}
    packages = {r.id: await storage.evidence_packages.of_request(r.id) for r in records}
    place = await request.app[SHARES].places.place()
    household = place.label if place and place.label else "this household"
    body = report_body(records, granted, packages, since, until, now, household)
    signed = sign_report(request.app[CHECKPOINTS].key, body)
    return web.json_response(TransparencyView(**signed).model_dump(mode="json"))


def add_request_routes(app: web.Application) -> None:
    """Register the owner's police-request routes."""
    owner = Access.OWNER
    one, pkg = {"request_id": ID}, {"request_id": ID, "package_id": ID}
    add_api_route(app, "GET", "/api/agencies", list_agencies, access=owner,
                  summary="Agencies you added", response=AgencyList)  # fmt: skip
    add_api_route(app, "POST", "/api/agencies", create_agency, access=owner, reauth=True,
                  summary="Add an agency (how it was verified, its key, its account)",
                  request=NewAgency, response=AgencyView, status=201,
                  errors=(409,))  # fmt: skip
    add_api_route(app, "GET", "/api/requests", list_requests, access=owner,
                  summary="Police requests, newest first (refused ones too)",
                  response=RequestList)  # fmt: skip
    add_api_route(app, "POST", "/api/requests", type_in, access=owner,
                  summary="Enter a request received by e-mail or on paper",
                  request=TypedRequest, response=RequestSummary, status=201)  # fmt: skip
    add_api_route(app, "POST", "/api/requests/signed", upload_signed, access=owner,
                  summary="Upload a request file signed by the agency's key",
                  request=SignedUpload, response=RequestSummary, status=201)  # fmt: skip
    add_api_route(app, "GET", "/api/requests/{request_id}", get_request, access=owner,
                  summary="A request, its checks and matching clips", response=RequestDetail,
                  path_params=one, errors=(404,))  # fmt: skip
    add_api_route(app, "POST", "/api/requests/{request_id}/decision", decide, access=owner,
                  reauth=True, summary="Grant clips of a request (or none) and decline the rest",
                  request=DecisionBody, response=DecisionView, path_params=one,
                  errors=(404, 409))  # fmt: skip
    add_api_route(app, "DELETE", "/api/requests/{request_id}/packages/{package_id}",
                  revoke_grant, access=owner, summary="End a package's download grant now",
                  response=RequestDetail, path_params=pkg, errors=(404,))  # fmt: skip
    add_api_route(app, "POST", "/api/requests/{request_id}/packages/{package_id}/retry",
                  make_again, access=owner, summary="Make a package that could not be made again",
                  response=RequestDetail, path_params=pkg, errors=(404, 409))  # fmt: skip
    add_api_route(app, "GET", "/api/transparency", transparency, access=owner,
                  summary="The household's transparency report for a period (signed)",
                  response=TransparencyView, query=TransparencyQuery, errors=(422,))  # fmt: skip
