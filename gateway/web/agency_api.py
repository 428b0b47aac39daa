"""The agency's side: send a footage request, read its one status, download what the owner
granted. No route here reaches a camera, an event or live video, and every answer about a
request is the same (`received`) until the owner grants something."""

from __future__ import annotations

from aiohttp import web

from doorstep.gateway.auth.principal import REQUEST_ROLES
from doorstep.gateway.evidence.intake import Source
from doorstep.gateway.evidence.request_form import RequestForm, RequestRefused
from doorstep.gateway.evidence.service import PackageNotFound
from doorstep.gateway.sharing.tokens import TOKEN_SHAPE, token_hash
from doorstep.gateway.storage import AgencyRecord, PackageRecord, RequestRecord
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import json_of, principal_of
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, EVIDENCE, REFUSALS, STORAGE
from doorstep.gateway.web.policy import NOT_FOUND, Access, json_error
from doorstep.gateway.web.request_views import AgencyRequestList, AgencyRequestView, for_agency
from doorstep.gateway.web.requests_api import ID, MAX_REQUEST
from doorstep.gateway.web.session import client_ip, session_token
from doorstep.gateway.web.share_limits import SlidingWindows
from doorstep.gateway.web.share_public_api import SHARE_LIMITS
from doorstep.gateway.web.share_send import ShareFileResponse

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
SUBMISSIONS_PER_HOUR = 20
"""Requests one agency may send in an hour, refused ones too: more is a flood, not an inquiry."""
SUBMISSIONS = web.AppKey("agency_submissions", SlidingWindows)
TOKEN = {"type": "string", "pattern": "^[A-Za-z0-9_-]{32}$"}


def _no_such(request: web.Request, who: str) -> web.HTTPException:
    """The one answer to anything an agency may not have: audited (aggregated)."""
    request.app[REFUSALS].record(who, "evidence.refused", "denied", client_ip(request))
    return json_error(web.HTTPNotFound, *NOT_FOUND)


async def _agency(request: web.Request) -> AgencyRecord:
    principal = principal_of(request)
    agency = await request.app[STORAGE].agencies.of_user(principal.user_id)
    if agency is None:
        why = "this account is not linked to an agency yet: ask the household's owner"
        raise json_error(web.HTTPForbidden, "no_agency", why)
    return agency


async def _own(request: web.Request, agency: AgencyRecord) -> RequestRecord:
    record = await request.app[STORAGE].police_requests.get(request.match_info["request_id"])
    if record is None or record.agency_id != agency.id:
        raise _no_such(request, principal_of(request).username)
    return record


async def _view(request: web.Request, record: RequestRecord) -> AgencyRequestView:
    packages = await request.app[STORAGE].evidence_packages.of_request(record.id)
    return for_agency(record, packages)


async def submit(request: web.Request) -> web.Response:
    """POST /api/agency/requests: a footage request from this agency's account."""
    agency = await _agency(request)
    if not request.app[SUBMISSIONS].take(str(agency.id)):
        why = f"at most {SUBMISSIONS_PER_HOUR} requests an hour from one agency; try again later"
        raise json_error(web.HTTPTooManyRequests, "too_many", why, {"Retry-After": "3600"})
    raw, data = await json_of(request, MAX_REQUEST)
    principal = principal_of(request)
    source = Source("agency_account", agency, agency.name, principal.username, client_ip(request))
    evidence = request.app[EVIDENCE]
    try:
        record = await evidence.intake.receive(raw, data, source, evidence.clock.now())
    except RequestRefused as exc:
        raise json_error(web.HTTPUnprocessableEntity, "refused",
                         f"{exc.field}: {exc.reason}") from None  # fmt: skip
    return web.json_response((await _view(request, record)).model_dump(mode="json"), status=201)


async def list_own(request: web.Request) -> web.Response:
    """GET /api/agency/requests."""
    agency = await _agency(request)
    records = await request.app[STORAGE].police_requests.page(agency_id=agency.id, limit=500)
    views = [await _view(request, r) for r in records]
    return web.json_response(AgencyRequestList(requests=views).model_dump(mode="json"))


async def get_own(request: web.Request) -> web.Response:
    """GET /api/agency/requests/{request_id}."""
    record = await _own(request, await _agency(request))
    return web.json_response((await _view(request, record)).model_dump(mode="json"))


def _first(request: web.Request) -> bool:
    """Whether this request starts a download (from byte 0) rather than resuming one."""
    header = request.headers.get("Range", "").replace(" ", "")
    return not header.startswith("bytes=") or header.startswith("bytes=0-")


async def _send(request: web.Request, package: PackageRecord | None, via: str, who: str,
                account: AccountWatch | None = None) -> web.StreamResponse:  # fmt: skip
    evidence, first = request.app[EVIDENCE], _first(request)
    try:
        package, path = await evidence.open_package(package, first=first)
    except PackageNotFound:
        raise _no_such(request, who) from None
    if first:
        await request.app[AUDIT].append(
            who, "evidence.download", f"package:{package.id}", ip=client_ip(request),
            detail={"request": package.request_id, "via": via, "n": package.downloads + 1},
        )  # fmt: skip
    headers = NO_STORE | {
        "Content-Disposition": f'attachment; filename="evidence-{package.id}.zip"',
        "Content-Type": "application/zip",
    }  # fmt: skip
    package_id = package.id

    async def still_open() -> bool:
        if account is not None and not await account.still_agency(request):
            return False
        return await evidence.still_open(package_id)

    return ShareFileResponse(
        path, headers, package_id, evidence.watch, still_open, package.expires_at,
        evidence.clock.now, None if account is None else account.changed,
    )  # fmt: skip


class AccountWatch:
    """The agency account behind a download: wakes on its changes, and says whether it is
    still a signed-in agency account (a disabled or deleted one stops the send).

    The send runs after the handler has returned, so each wait registers its own watcher for
    as long as it waits (one made in the handler would be closed before the first byte)."""

    def __init__(self, request: web.Request) -> None:
        self._changes = request.app[ACCOUNTS].changes
        self._user_id = principal_of(request).user_id

    async def changed(self) -> None:
        """Until the account changes."""
        with self._changes.watch(self._user_id) as watcher:
            await watcher.wait()

    async def still_agency(self, request: web.Request) -> bool:
        """Whether the session is still an agency account's."""
        current = await request.app[ACCOUNTS].principal_for(session_token(request))
        return current is not None and current.role in REQUEST_ROLES


async def download_own(request: web.Request) -> web.StreamResponse:
    """GET /api/agency/requests/{request_id}/package: the delivered package (Range too)."""
    record = await _own(request, await _agency(request))
    packages = await request.app[STORAGE].evidence_packages.of_request(record.id)
    ready = [p for p in packages if p.state == "ready"]
    return await _send(request, ready[-1] if ready else None, "account",
                       principal_of(request).username, AccountWatch(request))  # fmt: skip


async def download_by_link(request: web.Request) -> web.StreamResponse:
    """GET /api/evidence/{token}: a package by the link the owner sent (Range too)."""
    token = request.match_info["token"]
    if not request.app[SHARE_LIMITS].allow(client_ip(request), token_hash(token)):
        raise json_error(web.HTTPTooManyRequests, "too_many", "too many requests; try again "
                         "in a minute", {"Retry-After": "60"})  # fmt: skip
    package = None
    if TOKEN_SHAPE.match(token):
        package = await request.app[STORAGE].evidence_packages.by_token(token_hash(token))
    else:
        await request.app[STORAGE].evidence_packages.by_token(token_hash(token))  # same work
    if package is None:
        request.app[SHARE_LIMITS].refused(client_ip(request))
    return await _send(request, package, "link", "anonymous")


def add_agency_routes(app: web.Application) -> None:
    """Register the agency's routes and the package link."""
    agency, one = Access.AGENCY, {"request_id": ID}
    app[SUBMISSIONS] = SlidingWindows(SUBMISSIONS_PER_HOUR, window_s=3600)
    add_api_route(app, "POST", "/api/agency/requests", submit, access=agency,
                  summary="Send a footage request (checked by the box; never live video)",
                  request=RequestForm, response=AgencyRequestView, status=201,
                  errors=(403, 429))  # fmt: skip
    add_api_route(app, "GET", "/api/agency/requests", list_own, access=agency,
                  summary="This agency's requests", response=AgencyRequestList,
                  errors=(403,))  # fmt: skip
    add_api_route(app, "GET", "/api/agency/requests/{request_id}", get_own, access=agency,
                  summary="One of this agency's requests", response=AgencyRequestView,
                  path_params=one, errors=(403, 404))  # fmt: skip
    add_api_route(app, "GET", "/api/agency/requests/{request_id}/package", download_own,
                  access=agency, summary="Download the evidence package granted",
                  media_type="application/zip", path_params=one,
                  errors=(403, 404, 416))  # fmt: skip
    add_api_route(app, "GET", "/api/evidence/{token}", download_by_link, access=Access.PUBLIC,
                  summary="Download an evidence package by its link",
                  media_type="application/zip", path_params={"token": TOKEN},
                  errors=(404, 416, 429))  # fmt: skip
