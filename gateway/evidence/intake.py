"""Requests coming in: one record whichever way they came, checked, stored (refused ones
too, for the owner to see), with the case's earlier requests weighed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.evidence.area import area_geojson, parse_area
from doorstep.gateway.evidence.request_form import (
    CheckedRequest,
    RequestForm,
    RequestRefused,
    case_key,
    check_form,
)
from doorstep.gateway.storage import OPEN_STATUSES, AgencyRecord, RequestRecord, Storage

MAX_PER_CASE = 2
ANSWER_WITHIN = timedelta(days=30)
"""A request the owner never answers expires after this."""
ADJACENT_M = 250.0
"""Areas of one case closer than this are flagged as adjacent (cutting one big area in two)."""
CHANNELS = ("agency_account", "signed_file", "email", "paper")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a request came from: the channel, the agency, who put it into the box."""

    channel: str
    agency: AgencyRecord | None
    agency_name: str
    received_by: str
    ip: str = ""


def _form_of(data: Any) -> RequestForm:
    try:
        return RequestForm.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "request"
        raise RequestRefused(where, str(first["msg"])) from None


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime | None, datetime | None]) -> bool:
    return b[0] is not None and b[1] is not None and a[0] < b[1] and b[0] < a[1]


def weigh_case(checked: CheckedRequest, earlier: list[RequestRecord]) -> list[str]:
    """Flags from the case's earlier requests; `RequestRefused` for a third one."""
    counted = [r for r in earlier if r.status in OPEN_STATUSES]
    if len(counted) >= MAX_PER_CASE:
        ids = ", ".join(r.id for r in counted)
        raise RequestRefused("case_number", f"at most two requests per case (already: {ids})")
    flags = []
    for other in counted:
        area = parse_area(other.form["area"])
        same_time = _overlaps((checked.start, checked.end), (other.window_start, other.window_end))
        distance = checked.area.distance_m(area)
        if distance == 0 and same_time:
            flags.append(f"overlaps request {other.id} of the same case (area and time)")
        elif distance < ADJACENT_M:
            flags.append(f"next to request {other.id} of the same case ({distance:.0f} m apart)")
        elif same_time:
            flags.append(f"the same time as request {other.id} of the same case")
    return flags


class RequestIntake:
    """Checks and stores requests; every one is an audit row."""

    def __init__(self, storage: Storage, audit: AuditLog) -> None:
        self._storage = storage
        self._audit = audit

    async def receive(self, raw: bytes, data: Any, source: Source, now: datetime) -> RequestRecord:
        """Store a request; raises `RequestRefused` after storing a refused one."""
        request_id = secrets.token_urlsafe(12)
        verification = source.agency.verification if source.agency else "unverified"
        base: dict[str, Any] = {
            "id": request_id, "received_at": now, "channel": source.channel,
            "original_sha256": hashlib.sha256(raw).hexdigest(), "agency_id":
            source.agency.id if source.agency else None, "agency_name": source.agency_name,
            "verification": verification, "expires_at": now + ANSWER_WITHIN,
            "received_by": source.received_by,
        }  # fmt: skip
        try:
            form = _form_of(data)
            checked = check_form(form, now)
            earlier = await self._storage.police_requests.of_case(source.agency_name,
                                                                 checked.case_key)  # fmt: skip
            flags = checked.flags + weigh_case(checked, earlier)
        except RequestRefused as refused:
            await self._refused(raw, data, base, refused, source)
            raise
        record = RequestRecord(
            **base, case_number=form.case_number.strip(), case_key=checked.case_key,
            form=_stored_form(form, checked), status="pending", area_m2=checked.area.area_m2,
            window_start=checked.start, window_end=checked.end,
            checks=[{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checked.checks],
            flags=flags, related=[r.id for r in earlier if r.status in OPEN_STATUSES],
        )  # fmt: skip
        await self._storage.police_requests.add(record, raw)
        entry = await self._audit.append(
            source.received_by, "request.received", f"request:{request_id}", ip=source.ip,
            detail={"channel": source.channel, "agency": source.agency_name,
                    "case": record.case_number, "flags": len(flags),
                    "sha256": record.original_sha256},
        )  # fmt: skip
        await self._storage.police_requests.note_audit(request_id, entry.seq)
        return record

    async def _refused(
        self, raw: bytes, data: Any, base: dict[str, Any], refused: RequestRefused, source: Source
    ) -> None:
        case = data.get("case_number") if isinstance(data, dict) else None
        case_number = case.strip()[:64] if isinstance(case, str) else ""
        form = data if isinstance(data, dict) and len(raw) <= 65536 else {}
        record = RequestRecord(
            **base, case_number=case_number, case_key=case_key(case_number), form=form,
            status="refused", refused_field=refused.field, refused_reason=refused.reason,
            checks=[{"name": refused.field, "ok": False, "detail": refused.reason}],
        )  # fmt: skip
        await self._storage.police_requests.add(record, raw)
        entry = await self._audit.append(
            source.received_by, "request.refused", f"request:{record.id}", ip=source.ip,
            outcome="refused",
            detail={"channel": source.channel, "agency": source.agency_name,
                    "field": refused.field, "reason": refused.reason},
        )  # fmt: skip
        await self._storage.police_requests.note_audit(record.id, entry.seq)

    async def expire(self, now: datetime | None = None) -> list[str]:
        """Requests past their answer-by date become expired (each an audit row)."""
        expired = await self._storage.police_requests.expire(now or datetime.now(UTC))
        for request_id in expired:
            await self._audit.append("gateway", "request.expired", f"request:{request_id}")
        return expired


def _stored_form(form: RequestForm, checked: CheckedRequest) -> dict[str, Any]:
    """The request's fields as kept: times in UTC, the area as checked."""
    stored = form.model_dump(mode="json")
    stored["area"] = area_geojson(checked.area)
    stored["window"] = {"start": checked.start.isoformat(), "end": checked.end.isoformat()}
    return stored
