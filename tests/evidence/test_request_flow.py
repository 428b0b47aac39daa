"""A request end to end through the API: the agency sends it, the owner sees its checks and
clips, grants one trimmed without sound and declines the other, the agency downloads the
package and it verifies offline."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

from doorstep.gateway.evidence.package_check import verify_package
from doorstep.gateway.web.keys import AUDIT, CHECKPOINTS, EVIDENCE, STORAGE

from ..gateway_client import SAME_ORIGIN, Client, call
from .conftest import BACK_CLIP, FRONT_CLIP, Case, request_body


async def fetch(client: Client, path: str, **headers: str) -> tuple[int, bytes]:
    async with client.get(path, headers={**SAME_ORIGIN, **headers}) as response:
        return response.status, await response.read()


async def decided(case: Case, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The owner's decision, and the package built."""
    status, view = await call(case.owner, "POST", f"/api/requests/{request_id}/decision", body)
    assert status == 200, view
    await case.gateway.app[EVIDENCE].settled()
    return view


async def test_a_request_from_an_agency_to_a_verified_package(case: Case, tmp_path: Path) -> None:
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201, sent
    assert sent["status"] == "received"
    assert set(sent) == {"id", "case_number", "received_at", "status", "refused_reason", "package"}
    request_id = sent["id"]

    status, seen = await call(case.owner, "GET", f"/api/requests/{request_id}")
    assert status == 200
    assert seen["verification_text"] == "verified in person"
    assert seen["home_in_area"] is True
    assert {c["name"] for c in seen["checks"]} == {"case", "area", "window", "content"}
    assert all(c["ok"] for c in seen["checks"])
    assert {c["id"] for c in seen["clips"]} == {FRONT_CLIP, BACK_CLIP}
    assert 0.025 <= seen["area_sq_mi"] <= 0.5

    view = await decided(case, request_id, {
        "grants": [{"clip_id": FRONT_CLIP, "trim_to_window": True, "audio": False}],
        "declined": [BACK_CLIP], "note": "back yard shows the neighbours' garden",
    })  # fmt: skip
    assert view["request"]["status"] == "partial"
    assert view["request"]["granted"] == [FRONT_CLIP]
    assert view["link"].startswith("/api/evidence/")
    status, after = await call(case.owner, "GET", f"/api/requests/{request_id}")
    (package,) = after["packages"]
    assert package["state"] == "ready", package
    assert after["receipts"] == 1
    storage = case.gateway.app[STORAGE]
    holds = await storage.holds.in_force(FRONT_CLIP, package_time(after))
    assert [(h.legal, h.request_id) for h in holds] == [(True, request_id)]
    assert await storage.holds.in_force(BACK_CLIP, package_time(after)) == []

    status, theirs = await call(case.agency, "GET", f"/api/agency/requests/{request_id}")
    assert (status, theirs["status"]) == (200, "delivered")
    status, body = await fetch(case.agency, theirs["package"]["url"])
    assert status == 200
    status, tail = await fetch(case.agency, theirs["package"]["url"], Range="bytes=100-")
    assert (status, tail) == (206, body[100:])
    saved = tmp_path / "package.zip"
    saved.write_bytes(body)
    key = case.gateway.app[CHECKPOINTS].key.public
    report = await asyncio.to_thread(verify_package, saved, key.fingerprint)
    assert report.ok, report.problems
    # Trimmed and silent: the copy goes alone, the master stays here (named by its hash).
    assert report.files == 1
    clip = await storage.clips.get(FRONT_CLIP)
    assert clip is not None
    assert_master_kept_back(saved, FRONT_CLIP, clip.sha256)
    downloads = await case.gateway.app[AUDIT].query(action="evidence.download")
    assert len(downloads) == 1  # the resumed Range request is the same download
    status, after = await call(case.owner, "GET", f"/api/requests/{request_id}")
    assert [d["via"] for d in after["downloads"]] == ["account"]


def assert_master_kept_back(package: Path, clip_id: str, sha256: str | None) -> None:
    """Only the working copy is in the package; the master is listed by its hash."""
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    (working,) = [n for n in names if n.endswith(".mp4")]
    assert working.startswith("working/")
    (kept,) = manifest["withheld_masters"]
    assert (kept["clip_id"], kept["sha256"]) == (clip_id, sha256)
    (derivation,) = manifest["derivations"]
    assert (derivation["input"], derivation["input_sha256"]) == (None, sha256)
    (granted,) = json.loads(manifest["consent_receipt"]["body"])["granted"]
    assert (granted["master_handed_over"], granted["master_sha256"]) == (False, sha256)


def package_time(detail: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(detail["packages"][0]["created_at"])
