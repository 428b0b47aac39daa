"""A package is never left half-made: one a stop interrupted is made again at the next start,
one that failed is made again when the owner asks, each under the same grant and link."""

from __future__ import annotations

import asyncio
from pathlib import Path

from doorstep.gateway.evidence.package_check import verify_package
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.web.keys import AUDIT, CHECKPOINTS, EVIDENCE, STORAGE

from ..gateway_client import call
from ..settings.conftest import StartGateway
from .conftest import CAMERAS, FRONT_CLIP, Case, request_body
from .test_request_flow import decided, fetch


async def _granted(case: Case) -> tuple[str, str, str]:
    """A request granted: its id, its package's id and the link shown to the owner."""
    status, sent = await call(case.agency, "POST", "/api/agency/requests", request_body())
    assert status == 201
    view = await decided(case, sent["id"], {"grants": [{"clip_id": FRONT_CLIP}]})
    (package,) = view["request"]["packages"]
    return sent["id"], package["id"], view["link"]


def _verified(path: Path, body: bytes, fingerprint: str) -> list[str]:
    """What `doorstep evidence verify` finds wrong with the package downloaded (blocking)."""
    path.write_bytes(body)
    return verify_package(path, fingerprint).problems


async def _check(path: Path, body: bytes, fingerprint: str) -> None:
    assert await asyncio.to_thread(_verified, path, body, fingerprint) == []


async def test_a_package_a_stop_interrupted_is_made_at_the_next_start(
    case: Case, start_gateway: StartGateway, tmp_path: Path
) -> None:
    _, package_id, link = await _granted(case)
    storage = case.gateway.app[STORAGE]
    package = await storage.evidence_packages.get(package_id)
    assert package is not None
    assert package.file is not None
    # As a stop in the middle leaves it: still "building", the zip half-written.
    root = case.gateway.app[EVIDENCE].builder.root
    (root / package.file).rename(root / f"{package_id}.zip.part")
    await storage.database.durable.execute(
        "UPDATE evidence_packages SET state = 'building', file = NULL WHERE id = ?", (package_id,)
    )
    await case.gateway.server.close()

    again = await start_gateway(cameras=CAMERAS, recording={"mode": "off"})
    await again.app[EVIDENCE].settled()
    made = await again.app[STORAGE].evidence_packages.get(package_id)
    assert made is not None
    assert (made.state, made.error) == ("ready", None)
    assert not (root / f"{package_id}.zip.part").exists()
    status, body = await fetch(await again.browser(), link)  # the link shown once still works
    assert status == 200
    await _check(tmp_path / "again.zip", body, again.app[CHECKPOINTS].key.public.fingerprint)
    (retry,) = await again.app[AUDIT].query(action="evidence.retry")
    assert retry.detail["reason"] == "the gateway stopped while it was being made"


async def test_the_owner_makes_a_failed_package_again(case: Case, tmp_path: Path) -> None:
    storage = case.gateway.app[STORAGE]
    clip = await storage.clips.get(FRONT_CLIP)
    assert clip is not None
    master = storage.database.path.parent / CLIPS_DIR / clip.path
    aside = master.with_name("aside.mp4")
    master.rename(aside)  # unreadable while the package is made
    request_id, package_id, link = await _granted(case)
    failed = await storage.evidence_packages.get(package_id)
    assert failed is not None
    assert failed.state == "failed"
    assert (await fetch(await case.gateway.browser(), link))[0] == 404
    aside.rename(master)

    path = f"/api/requests/{request_id}/packages/{package_id}/retry"
    status, view = await call(case.owner, "POST", path, {})
    assert status == 200, view
    await case.gateway.app[EVIDENCE].settled()
    status, detail = await call(case.owner, "GET", f"/api/requests/{request_id}")
    assert [p["state"] for p in detail["packages"]] == ["ready"]
    status, body = await fetch(await case.gateway.browser(), link)
    assert status == 200
    await _check(tmp_path / "again.zip", body, case.gateway.app[CHECKPOINTS].key.public.fingerprint)
    # Only a failed package with its grant open is made again; nobody else may ask.
    status, refused = await call(case.owner, "POST", path, {})
    assert (status, refused["error"]) == (409, "conflict")
    assert (await call(case.agency, "POST", path, {}))[0] == 404
    other = f"/api/requests/{request_id}/packages/nothing/retry"
    assert (await call(case.owner, "POST", other, {}))[0] == 404
    (retry,) = await case.gateway.app[AUDIT].query(action="evidence.retry")
    assert (retry.actor, retry.detail["reason"]) == ("alice", "asked by the owner")
