"""The transparency report counts what happened to the household's requests in a period, by
agency and legal basis, and is signed with the gateway key."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from doorstep.gateway.evidence.signed_requests import canonical
from doorstep.gateway.web.keys import CHECKPOINTS

from ..gateway_client import call
from .conftest import BACK_CLIP, FRONT_CLIP, Case, add_agency, request_body
from .test_request_flow import decided


async def test_the_report_counts_each_outcome_and_is_signed(case: Case) -> None:
    sent = []
    for n in range(2):
        status, body = await call(case.agency, "POST", "/api/agency/requests",
                                  request_body(case=f"C-{n}"))  # fmt: skip
        assert status == 201
        sent.append(body["id"])
    await decided(case, sent[0], {"grants": [{"clip_id": FRONT_CLIP}], "declined": [BACK_CLIP]})
    await decided(case, sent[1], {"declined": [FRONT_CLIP, BACK_CLIP]})
    status, _ = await call(case.agency, "POST", "/api/agency/requests",
                           request_body(case="C-3", live=True))  # fmt: skip
    assert status == 422
    _, other = await add_agency(case.owner, case.gateway, "County Sheriff", "county")
    assert other is not None
    warrant = request_body(case="W-1", legal_basis="warrant",
                           legal_document={"reference": "Warrant 22-118"})  # fmt: skip
    assert (await call(other, "POST", "/api/agency/requests", warrant))[0] == 201

    status, signed = await call(case.owner, "GET", "/api/transparency")
    assert status == 200
    report = signed["report"]
    assert report["household"] == "Elm Street"
    assert report["requests"] == {"received": 4, "pending": 1, "granted": 0, "partial": 1,
                                  "declined": 1, "expired": 0, "refused": 1}  # fmt: skip
    agencies = {a["agency_name"]: a for a in report["by_agency"]}
    assert (agencies["Springfield PD"]["received"], agencies["County Sheriff"]["pending"]) == (3, 1)
    bases = {b["legal_basis"]: b["received"] for b in report["by_legal_basis"]}
    assert bases == {"voluntary": 3, "warrant": 1}  # the refused one is counted as it was asked
    assert (report["clips_handed_over"], report["packages_delivered"]) == (1, 1)
    key = case.gateway.app[CHECKPOINTS].key.public
    assert signed["key_fingerprint"] == key.fingerprint
    assert key.verify(base64.b64decode(signed["signature"]), canonical(report))
    report["requests"]["declined"] = 0
    assert not key.verify(base64.b64decode(signed["signature"]), canonical(report))

    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    status, refused = await call(
        case.owner, "GET", f"/api/transparency?since={later}&until={later}"
    )
    assert (status, refused["reason"]) == (422, "since: before until")
    assert (await call(case.owner, "GET", f"/api/transparency?since={later}"))[0] == 422
    assert (await call(case.agency, "GET", "/api/transparency"))[0] == 404
