"""The box's checks of a request, each abuse case of EVIDENCE.md refused (or flagged) with a
reason naming the field: sent by an agency account through the API, stored for the owner."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from doorstep.gateway.evidence.area import AreaRefused, parse_area
from doorstep.gateway.evidence.request_form import case_key
from doorstep.gateway.web.agency_api import SUBMISSIONS_PER_HOUR

from ..gateway_client import call
from .conftest import HOME, Case, circle, request_body

LAT, LON = HOME
D = 0.004  # degrees: about 440 m of latitude


def square(side_deg: float, lat: float = LAT, lon: float = LON) -> dict[str, Any]:
    ring = [[lon, lat], [lon + side_deg, lat], [lon + side_deg, lat + side_deg],
            [lon, lat + side_deg], [lon, lat]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring]}


def window(start: datetime, minutes: float) -> dict[str, str]:
    return {"start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat()}


PAST = datetime.now(UTC) - timedelta(days=2)
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("too-big", {"area": circle(700)}, "area: 0.5"),
    ("too-small", {"area": circle(100)}, "below the 0.025 sq mi minimum"),
    ("multi-part", {"area": {"type": "MultiPolygon", "coordinates": [
        square(D)["coordinates"], square(D, lat=LAT + 0.01)["coordinates"]]}},
     "area: one area: multi-part areas are refused"),
    ("self-intersecting", {"area": {"type": "Polygon", "coordinates": [[
        [LON, LAT], [LON + D, LAT + D], [LON, LAT + D], [LON + D, LAT], [LON, LAT]]]}},
     "area: the polygon crosses itself"),
    ("holes", {"area": {"type": "Polygon", "coordinates": [
        square(D)["coordinates"][0], square(D / 4)["coordinates"][0]]}}, "has no holes"),
    ("future", {"window": window(datetime.now(UTC) + timedelta(hours=1), 60)},
     "window.end: the window must lie entirely in the past"),
    ("running-into-now", {"window": window(datetime.now(UTC) - timedelta(minutes=30), 60)},
     "entirely in the past"),
    ("ongoing", {"window": {"start": PAST.isoformat()}}, "window.end: an ongoing window"),
    ("too-short", {"window": window(PAST, 10)}, "window: a window is at least 15 minutes"),
    ("too-long", {"window": window(PAST, 13 * 60)}, "window: a window is at most 12 hours"),
    ("live", {"live": True}, "content: a request cannot ask for live video"),
    ("stream", {"content": ["clips", "stream"]}, "content: a request cannot ask for live"),
    ("no-case", {"case_number": " - "}, "case_number: a case or reference number"),
    ("no-incident", {"incident_type": " "}, "incident_type: the incident type is required"),
    ("warrant-without-document", {"legal_basis": "warrant"}, "legal_document: a warrant"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "reason"), [(c, r) for _, c, r in REFUSED],
                         ids=[name for name, _, _ in REFUSED])  # fmt: skip
async def test_a_request_the_box_refuses(case: Case, changes: dict[str, Any], reason: str) -> None:
    status, refused = await call(case.agency, "POST", "/api/agency/requests",
                                 request_body(**changes))  # fmt: skip
    assert (status, refused["error"]) == (422, "refused")
    assert reason in refused["reason"]
    status, listed = await call(case.owner, "GET", "/api/requests")
    (seen,) = listed["requests"]  # the owner sees refused requests
    assert (seen["status"], seen["agency"]) == ("refused", "Springfield PD")
    assert reason.split(": ", 1)[-1][:20] in seen["refused_reason"]
    status, theirs = await call(case.agency, "GET", "/api/agency/requests")
    assert [r["status"] for r in theirs["requests"]] == ["refused"]


def test_the_area_limits_are_geodesic() -> None:
    # 0.025 and 0.5 sq mi are circles of about 144 m and 642 m radius (EVIDENCE.md).
    assert parse_area(circle(145)).area_sq_mi == pytest.approx(0.0255, abs=0.001)
    assert parse_area(circle(641)).area_sq_mi == pytest.approx(0.498, abs=0.002)
    with pytest.raises(AreaRefused, match="below"):
        parse_area(circle(143))
    with pytest.raises(AreaRefused, match="above"):
        parse_area(circle(643))
    # The same square in degrees is smaller further north: measured on the ellipsoid.
    south, north = parse_area(square(0.008, lat=10.0)), parse_area(square(0.008, lat=60.0))
    assert north.area_m2 == pytest.approx(south.area_m2 * 0.51, rel=0.03)


def test_the_same_case_whatever_its_punctuation() -> None:
    assert case_key("24-0117") == case_key("240117") == case_key(" 24/0117 ")


async def test_at_most_two_requests_per_case_and_adjacent_ones_flagged(case: Case) -> None:
    first = request_body(area=square(D))
    beside = request_body(case="24 0117", area=square(D, lon=LON + D + 0.0005))
    status, one = await call(case.agency, "POST", "/api/agency/requests", first)
    assert status == 201
    status, two = await call(case.agency, "POST", "/api/agency/requests", beside)
    assert status == 201
    status, seen = await call(case.owner, "GET", f"/api/requests/{two['id']}")
    assert any(f"next to request {one['id']} of the same case" in f for f in seen["flags"])
    assert seen["related"] == [one["id"]]
    third = request_body(case="240117", area=square(D, lon=LON + 3 * D))
    status, refused = await call(case.agency, "POST", "/api/agency/requests", third)
    assert (status, refused["error"]) == (422, "refused")
    assert "case_number: at most two requests per case" in refused["reason"]


async def test_overlapping_requests_and_protest_words_are_flagged(case: Case) -> None:
    status, one = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    second = request_body(description="Suspects seen at the rally on Main Street")
    status, two = await call(case.agency, "POST", "/api/agency/requests", second)
    assert status == 201
    status, seen = await call(case.owner, "GET", f"/api/requests/{two['id']}")
    assert any(f"overlaps request {one['id']}" in f for f in seen["flags"])
    assert any("mentions rally" in f for f in seen["flags"])


async def test_an_unverified_agency_is_shown_as_unverified(case: Case) -> None:
    status, agency = await call(case.owner, "POST", "/api/agencies",
                                {"name": "Some Sheriff", "verification": "unverified"})  # fmt: skip
    assert status == 201
    assert agency["verification_text"] == "NOT verified"
    typed = {"channel": "email", "agency_id": agency["id"], "request": request_body()}
    status, received = await call(case.owner, "POST", "/api/requests", typed)
    assert status == 201
    assert (received["verification"], received["verification_text"]) == (
        "unverified", "NOT verified")  # fmt: skip
    assert "verified" not in received["verification_text"].replace("NOT verified", "")
    status, refused = await call(case.owner, "POST", "/api/agencies",
                                 {"name": "Keyless", "verification": "signed_key"})  # fmt: skip
    assert status == 422
    assert "public_key" in refused["reason"]


async def test_a_burst_of_requests_is_held_to_the_hourly_limit(case: Case) -> None:
    # 30 at once, each a different case: exactly the limit goes through (refused ones count).
    bodies = [request_body(case=f"B-{n}", area=circle(100 if n % 2 else 300)) for n in range(30)]
    answers = await asyncio.gather(
        *(call(case.agency, "POST", "/api/agency/requests", b) for b in bodies)
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(429) == 30 - SUBMISSIONS_PER_HOUR, statuses
    assert set(statuses) == {201, 422, 429}
    limited = next(body for status, body in answers if status == 429)
    assert limited["error"] == "too_many"
    assert f"at most {SUBMISSIONS_PER_HOUR} requests an hour" in limited["reason"]
    _, listed = await call(case.owner, "GET", "/api/requests")
    assert len(listed["requests"]) == SUBMISSIONS_PER_HOUR  # nothing stored past the limit


async def test_an_emergency_claim_waits_for_the_owner_like_any_other(case: Case) -> None:
    pressure = "URGENT: life at risk, release the footage immediately"
    urgent = request_body(legal_basis="emergency_claim", description=pressure)
    status, sent = await call(case.agency, "POST", "/api/agency/requests", urgent)
    assert status == 201
    assert (sent["status"], sent["package"]) == ("received", None)  # no bypass, nothing sent
    status, seen = await call(case.owner, "GET", f"/api/requests/{sent['id']}")
    assert seen["status"] == "pending"
    assert "an emergency claim: nothing is sent without your choice" in seen["flags"]
    assert seen["packages"] == []
