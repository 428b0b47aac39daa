"""What the API shows of a police request: everything to the owner, and to the agency one
answer that is the same for every undecided outcome until the owner grants something."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from doorstep.gateway.evidence.service import Matching
from doorstep.gateway.keys.signing import VerifyKey
from doorstep.gateway.storage import AgencyRecord, PackageRecord, RequestRecord
from doorstep.gateway.web.clips_api import ClipView, clip_view

VERIFICATION_TEXT = {
    "in_person": "verified in person",
    "email_domain": "verified by e-mail domain",
    "signed_key": "verified by its signing key",
    "unverified": "NOT verified",
}


class AgencyView(BaseModel):
    """An agency as the owner added it."""

    id: int
    name: str
    verification: Literal["in_person", "email_domain", "signed_key", "unverified"]
    verification_text: str = Field(description="Never says verified unless it was.")
    verification_note: str
    key_fingerprint: str | None
    contact: str
    account: str | None = Field(description="Its agency account's username, if it has one.")


class CheckView(BaseModel):
    """One check the box made."""

    name: str
    ok: bool
    detail: str


class PackageView(BaseModel):
    """A package and its grant, for the owner."""

    id: str
    state: Literal["building", "ready", "failed"]
    error: str | None
    size_bytes: int
    sha256: str | None
    created_at: datetime
    expires_at: datetime
    max_downloads: int
    downloads: int
    revoked: bool
    ended: bool


class DownloadView(BaseModel):
    """One download of a package (from the audit log)."""

    at: str
    via: str
    ip: str


class RequestSummary(BaseModel):
    """A request in the owner's list."""

    id: str
    received_at: datetime
    channel: str
    agency: str
    verification: str
    verification_text: str
    case_number: str
    incident_type: str
    status: Literal["pending", "granted", "partial", "declined", "expired", "refused"]
    refused_reason: str | None
    flags: list[str]
    expires_at: datetime


class RequestDetail(RequestSummary):
    """A request with everything the box knows of it (the owner's page)."""

    original_sha256: str
    form: dict[str, Any]
    checks: list[CheckView]
    related: list[str]
    area_sq_mi: float | None
    window_start: datetime | None
    window_end: datetime | None
    home_in_area: bool | None = Field(description="None: the home's location is not set.")
    clips: list[ClipView] = Field(description="Clips of the window, every camera.")
    granted: list[str]
    decided_at: datetime | None
    decided_by: str | None
    private_note: str | None
    packages: list[PackageView]
    downloads: list[DownloadView]
    receipts: int
    first_audit_seq: int | None
    last_audit_seq: int | None


class RequestList(BaseModel):
    """Requests, newest first (refused ones too)."""

    requests: list[RequestSummary]


class AgencyRequestView(BaseModel):
    """A request as its agency sees it: `received` whatever the owner did (or did not do),
    until a package is delivered."""

    id: str
    case_number: str
    received_at: datetime
    status: Literal["received", "delivered", "refused"]
    refused_reason: str | None = Field(None, description="Why the box refused it (its checks).")
    package: dict[str, Any] | None = None


class AgencyRequestList(BaseModel):
    """The agency's own requests, newest first."""

    requests: list[AgencyRequestView]


def agency_view(agency: AgencyRecord, account: str | None) -> AgencyView:
    """An agency for the owner."""
    fingerprint = None
    if agency.public_key:
        fingerprint = VerifyKey.parse(agency.public_key).fingerprint
    return AgencyView.model_validate({
        "id": agency.id, "name": agency.name, "verification": agency.verification,
        "verification_text": VERIFICATION_TEXT[agency.verification],
        "verification_note": agency.verification_note, "key_fingerprint": fingerprint,
        "contact": agency.contact, "account": account,
    })  # fmt: skip


def summary(record: RequestRecord) -> dict[str, Any]:
    """The list fields of a request."""
    return {
        "id": record.id, "received_at": record.received_at, "channel": record.channel,
        "agency": record.agency_name, "verification": record.verification,
        "verification_text": VERIFICATION_TEXT.get(record.verification, "NOT verified"),
        "case_number": record.case_number,
        "incident_type": str(record.form.get("incident_type", "")) if record.form else "",
        "status": record.status, "refused_reason": record.refused_reason,
        "flags": record.flags, "expires_at": record.expires_at,
    }  # fmt: skip


def package_view(package: PackageRecord) -> PackageView:
    """A package for the owner."""
    return PackageView.model_validate({
        "id": package.id, "state": package.state, "error": package.error,
        "size_bytes": package.size_bytes, "sha256": package.sha256,
        "created_at": package.created_at, "expires_at": package.expires_at,
        "max_downloads": package.max_downloads, "downloads": package.downloads,
        "revoked": package.revoked_at is not None, "ended": package.ended_at is not None,
    })  # fmt: skip


def detail(
    record: RequestRecord, matching: Matching, granted: list[str], packages: list[PackageRecord],
    downloads: list[DownloadView], receipts: int,
) -> RequestDetail:  # fmt: skip
    """A request for the owner's page."""
    return RequestDetail(
        **summary(record), original_sha256=record.original_sha256, form=record.form,
        checks=[CheckView(**c) for c in record.checks], related=record.related,
        area_sq_mi=None if record.area_m2 is None else round(record.area_m2 / 2_589_988.11, 4),
        window_start=record.window_start, window_end=record.window_end,
        home_in_area=matching.in_area, clips=[clip_view(c) for c in matching.clips],
        granted=granted, decided_at=record.decided_at, decided_by=record.decided_by,
        private_note=record.private_note, packages=[package_view(p) for p in packages],
        downloads=downloads, receipts=receipts, first_audit_seq=record.first_audit_seq,
        last_audit_seq=record.last_audit_seq,
    )  # fmt: skip


def for_agency(record: RequestRecord, packages: list[PackageRecord]) -> AgencyRequestView:
    """The agency's view: nothing about the decision unless a package was delivered. The
    same fields are read and the same work done whatever the request's state."""
    ready = [p for p in packages if p.state == "ready"]
    view = AgencyRequestView(id=record.id, case_number=record.case_number,
                             received_at=record.received_at, status="received")  # fmt: skip
    if record.status == "refused":
        view.status, view.refused_reason = "refused", record.refused_reason
    elif ready:
        package = ready[-1]
        view.status = "delivered"
        view.package = {
            "id": package.id, "size_bytes": package.size_bytes, "sha256": package.sha256,
            "expires_at": package.expires_at.isoformat(),
            "downloads_left": max(0, package.max_downloads - package.downloads),
            "url": f"/api/agency/requests/{record.id}/package",
        }  # fmt: skip
    return view
