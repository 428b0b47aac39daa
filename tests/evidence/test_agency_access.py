"""What an agency can never reach, and what it can never learn: no live video, camera list or
events by any route; one answer for every undecided request; another request's package, an
unapproved clip or a path trick → the same 404, audited; a grant replayed after its end, also
after the gateway's clock moved back."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from datetime import timedelta

from doorstep.gateway.web.keys import AUDIT, EVIDENCE, REFUSALS, SHARES, STORAGE
from doorstep.gateway.web.policy import POLICIES, Access

from ..gateway_client import call
from ..timing_probe import assert_indistinguishable, interleaved
from .conftest import BACK_CLIP, FRONT_CLIP, Case, add_agency, request_body
from .test_request_flow import decided, fetch

REACHABLE = {Access.PUBLIC, Access.SIGNED_IN, Access.AGENCY}


async def test_no_route_gives_an_agency_cameras_events_clips_or_live_video(case: Case) -> None:
    policies = case.gateway.app[POLICIES]
    reachable = sorted(path for (_, path), access in policies.items() if access in REACHABLE)
    media = re.compile(r"^/api/(cameras|live|events|clips|rings|shares|shared|snapshot)")
    assert not [p for p in reachable if media.match(p)], reachable
    walked = 0
    for (method, path), access in sorted(policies.items()):
        if access in REACHABLE or method == "HEAD":
            continue
        concrete = re.sub(r"\{\w+\}", "front", path)
        status, body = await call(case.agency, method, concrete, {"sdp": "v=0"})
        # Not even that the route exists: the agency API's one answer to what it may not have.
        assert (status, body.get("error")) == (404, "not_found"), (method, path, status)
        walked += 1
    assert walked > 40  # the whole household and owner API, walked from the router


async def test_every_undecided_answer_is_the_same(case: Case) -> None:
    ids = {}
    for name, window_start in (("pending", 1), ("declined", 2), ("expired", 3), ("empty", 4)):
        start = case.gateway.app[EVIDENCE].clock.now() - timedelta(days=window_start * 10)
        body = request_body(
            case=f"C-{name}",
            window={"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
        )
        if name != "empty":
            body["window"] = request_body()["window"]
        status, sent = await call(case.agency, "POST", "/api/agency/requests", body)
        assert status == 201, sent
        ids[name] = sent["id"]
    await decided(case, ids["declined"], {"declined": [FRONT_CLIP, BACK_CLIP]})
    storage = case.gateway.app[STORAGE]
    await storage.database.durable.execute(
        "UPDATE police_requests SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE id = ?",
        (ids["expired"],),
    )
    await case.gateway.app[EVIDENCE].sweep()
    expired = await storage.police_requests.get(ids["expired"])
    assert expired is not None
    assert expired.status == "expired"
    views = {}
    for name, request_id in ids.items():
        status, view = await call(case.agency, "GET", f"/api/agency/requests/{request_id}")
        assert status == 200
        views[name] = {
            k: v for k, v in view.items() if k not in ("id", "case_number", "received_at")
        }
    assert len({repr(v) for v in views.values()}) == 1, views
    assert views["pending"] == {"status": "received", "refused_reason": None, "package": None}

    # And by time: 1000 tries each, interleaved, within the noise of one another.
    async def probe(name: str) -> None:
        status, _ = await call(case.agency, "GET", f"/api/agency/requests/{ids[name]}")
        assert status == 200

    assert_indistinguishable(await interleaved(ids, probe, 1000), "pending")


async def test_another_agencys_request_and_path_tricks_are_the_same_404(case: Case) -> None:
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    await decided(case, sent["id"], {"grants": [{"clip_id": FRONT_CLIP}]})
    _, other = await add_agency(case.owner, case.gateway, "County Sheriff", "county")
    assert other is not None
    refusals = []
    for path in (f"/api/agency/requests/{sent['id']}", f"/api/agency/requests/{sent['id']}/package",
                 "/api/agency/requests/..%2F..%2Fapi%2Fclips/package",
                 "/api/agency/requests/x/package", f"/api/clips/{FRONT_CLIP}/video"):  # fmt: skip
        status, body = await call(other, "GET", path)
        refusals.append((status, body.get("error")))
    # The clip is the household's: no grant opens it, and the answer is the same 404.
    assert refusals == [(404, "not_found")] * 5
    await case.gateway.app[REFUSALS].flush()
    rows = await case.gateway.app[AUDIT].query(action="evidence.refused")
    assert sum(int(r.detail.get("count", 1)) for r in rows) >= 3
    assert {r.actor for r in rows} == {"county"}
    denied = await case.gateway.app[AUDIT].query(action="access.denied")
    assert any(r.actor == "county" and r.target == f"GET /api/clips/{FRONT_CLIP}/video"
               for r in denied), denied  # fmt: skip


async def test_a_grant_ends_and_stays_ended_when_the_clock_moves_back(case: Case) -> None:
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    view = await decided(case, sent["id"], {"grants": [{"clip_id": FRONT_CLIP}],
                                            "grant_hours": 1, "max_downloads": 2})  # fmt: skip
    link = view["link"]
    stranger = await case.gateway.browser()
    assert (await fetch(stranger, link))[0] == 200
    assert (await fetch(stranger, link, Range="bytes=10-"))[0] == 206  # resuming is not counted
    assert (await fetch(case.agency, f"/api/agency/requests/{sent['id']}/package"))[0] == 200
    assert (await fetch(stranger, link))[0] == 404  # the download count is spent
    status, sent2 = await call(case.agency, "POST", "/api/agency/requests",
                               request_body(case="24-0118"))  # fmt: skip
    assert status == 201
    view2 = await decided(case, sent2["id"], {"grants": [{"clip_id": FRONT_CLIP}],
                                              "grant_hours": 1})  # fmt: skip
    clock = case.gateway.app[EVIDENCE].clock
    real = clock.wall
    clock.wall = lambda: real() + timedelta(hours=2)
    assert (await fetch(stranger, view2["link"]))[0] == 404  # expired
    await case.gateway.app[EVIDENCE].sweep()
    clock.wall = lambda: real() - timedelta(days=1)  # the clock moved back
    assert (await fetch(stranger, view2["link"]))[0] == 404
    assert (await fetch(stranger, "/api/evidence/" + "x" * 32))[0] == 404
    clock.wall = real
    _, detail = await call(case.owner, "GET", f"/api/requests/{sent['id']}")
    assert [d["via"] for d in detail["downloads"]] == ["account", "link"]


async def test_the_package_and_the_answers_carry_no_home_location(case: Case) -> None:
    places = case.gateway.app[SHARES].places
    await places.set_home(37.001234, -122.004567, "12 Elm Street", "alice", "")
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    view = await decided(case, sent["id"], {"grants": [{"clip_id": FRONT_CLIP, "audio": False}]})
    _, answer = await call(case.agency, "GET", f"/api/agency/requests/{sent['id']}")
    status, package = await fetch(case.agency, f"/api/agency/requests/{sent['id']}/package")
    assert status == 200
    members = await asyncio.to_thread(_members, package)
    seen = [repr(answer), repr(view["link"]), *members]
    assert any("24-0117" in text for text in members)  # the search reads the manifest itself
    for secret in ("37.001234", "-122.004567", "122.004567", "Elm Street"):
        assert not [text for text in seen if secret in text], secret


def _members(package: bytes) -> list[str]:
    """Every member's name and bytes (as Latin-1 text, to search), blocking."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return [n + archive.read(n).decode("latin-1") for n in archive.namelist()]
