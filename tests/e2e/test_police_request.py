"""A police request in Debian's Chromium against the real gateway and simulator: the owner adds
an agency with an account; the agency (second factor set up) asks for the doorbell's area and a
past window holding a recorded press; the owner sees the checks and the clips, grants the
doorbell's clip trimmed with the sound removed and declines the garden's; the agency downloads
the package (the silent copy alone: the recording as made stays on the box); `doorstep
evidence verify` passes on it, and fails naming the file after each of a changed byte, an
edited manifest, a manifest re-signed with another key and a removed file."""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pyotp
import pytest
from playwright.async_api import Browser

from doorstep.gateway.evidence.signed_requests import sign_request
from doorstep.gateway.keys.signing import SigningKey
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipQuery
from doorstep.gateway.web.keys import CHECKPOINTS, SHARES, STORAGE

from ..evidence.test_package_tampering import (
    _edit_manifest,
    _flip_byte_in,
    _remove_member,
    _resign,
    rewrite,
    verify,
)
from ..gateway_client import call
from .test_share_flow import gateway, owner_page, share_simulator  # noqa: F401  # fixtures
from .walk import Gateway, chromium, draw_mask, look_at, open_page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000
HOME = (37.0, -122.0)
AGENCY_PASSWORD = "agency password for tests"
SHERIFF = "County Sheriff (verified by its signing key)"


def audio_streams(path: Path) -> int:
    """How many sound tracks a clip file has (blocking)."""
    with av.open(str(path)) as container:
        return len(container.streams.audio)


async def clips_of_both(gateway: Gateway) -> dict[str, str]:  # noqa: F811
    """Press the doorbell and move in front of the garden camera: camera → clip id."""
    await asyncio.sleep(2.5)  # the pre-roll fills
    assert gateway.simulator.devices["doorbell-1"].press()
    gateway.simulator.devices["camera-1"].motion(True)
    await asyncio.sleep(1.0)
    gateway.simulator.devices["camera-1"].motion(False)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        found = await gateway.app[STORAGE].clips.find(ClipQuery(cameras=["front", "garden"]))
        done = {c.camera_id: c.id for c in found if c.poster and c.ended_at}
        if len(done) == 2:
            return done
        await asyncio.sleep(0.2)
    raise AssertionError("no clip of each camera within 40 s")


async def agency_signs_in(chromium: Browser, gateway: Gateway, aiohttp_client: Any) -> Any:  # noqa: F811
    """The agency sets up its second factor (through the API), then signs in on a phone."""
    client = await aiohttp_client(gateway.server)
    signed = {"username": "springfield", "password": AGENCY_PASSWORD}
    assert (await call(client, "POST", "/api/session", signed))[0] == 200
    status, started = await call(client, "POST", "/api/me/totp")
    assert status == 200
    otp = pyotp.TOTP(started["secret"])
    assert (await call(client, "POST", "/api/me/totp/confirm", {"code": otp.now()}))[0] == 200
    context = await chromium.new_context(viewport={"width": 390, "height": 844},
                                         accept_downloads=True)  # fmt: skip
    agency = await open_page(context)
    await sign_in(agency, gateway.url, "springfield", AGENCY_PASSWORD, otp)
    await agency.page.wait_for_url("**/#/footage")
    return agency


async def owner_at_home(chromium: Browser, gateway: Gateway, aiohttp_client: Any) -> Any:  # noqa: F811
    """A clip of each camera recorded, the home's place set, the owner's page open."""
    clips = await clips_of_both(gateway)
    await gateway.app[SHARES].places.set_home(HOME[0], HOME[1], "Elm Street", "alice", "")
    return clips, await owner_page(chromium, gateway, aiohttp_client)


def local(moment: datetime) -> str:
    """A datetime-local field's value (the browser runs in UTC here)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def test_an_agency_request_granted_in_part_and_verified_offline(  # noqa: PLR0915
    chromium: Browser,  # noqa: F811
    gateway: Gateway,  # noqa: F811
    aiohttp_client: Any,
    tmp_path: Path,
) -> None:
    clips, owner = await owner_at_home(chromium, gateway, aiohttp_client)
    page = owner.page

    # The owner adds the agency, verified in person, with its account.
    await page.goto(gateway.url + "#/requests")
    await page.locator("details.agencies summary").click()
    await page.fill("input[name=agency-name]", "Springfield PD")
    await page.fill("input[name=verification-note]", "Sgt. Lee's badge, seen at the desk")
    await page.fill("input[name=agency-username]", "springfield")
    await page.fill("input[name=agency-password]", AGENCY_PASSWORD)
    await page.click("#add-agency button[type=submit]")
    await page.locator("li[data-agency]", has_text="verified in person").wait_for(
        timeout=TIMEOUT_MS
    )
    await look_at(owner, "requests-empty", "details.agencies")

    # The agency asks for the doorbell's area and the last 20 minutes.
    agency = await agency_signs_in(chromium, gateway, aiohttp_client)
    form = agency.page.locator("#send-request")
    now = datetime.now(UTC)
    for name, value in {
        "case_number": "24-0117", "incident_type": "package theft", "officer": "Det. R. Alvarez",
        "badge": "4471", "contact": "ralvarez@pd.example", "latitude": str(HOME[0]),
        "longitude": str(HOME[1]), "radius": "300", "start": local(now - timedelta(minutes=20)),
        "end": local(now), "retention": "until the case closes",
    }.items():  # fmt: skip
        await form.locator(f"[name={name}]").fill(value)
    await look_at(agency, "agency-request-form", "#send-request")
    await form.locator("button[type=submit]").click()
    await agency.page.get_by_text("received.").wait_for(timeout=TIMEOUT_MS)
    entry = agency.page.locator("li[data-status=received]")
    await entry.wait_for(timeout=TIMEOUT_MS)
    request_id = await entry.get_attribute("data-request")

    # The owner sees it with its checks, the agency's verification and both clips.
    await page.reload()
    await page.locator(f"button[data-request='{request_id}']").click(timeout=TIMEOUT_MS)
    detail = page.locator(".request-detail")
    await detail.get_by_text("verified in person").first.wait_for(timeout=TIMEOUT_MS)
    await detail.get_by_text("your home is inside").wait_for()
    assert await detail.locator(".checks li").count() == 4
    front = detail.locator(f"li[data-clip='{clips['front']}']")
    garden = detail.locator(f"li[data-clip='{clips['garden']}']")
    await front.wait_for()
    await garden.wait_for()
    await look_at(owner, "request-detail", ".request-clip")
    await front.locator("input[value=grant]").check()
    assert await front.locator("input[name=trim]").is_checked()
    assert not await front.locator("input[name=audio]").is_checked()  # sound removed
    await page.fill("textarea[name=note]", "the garden shows the neighbours")
    await page.click("#decide")
    await page.locator("[data-package][data-state=ready]").wait_for(timeout=TIMEOUT_MS)
    await page.locator("#package-link").wait_for()
    await look_at(owner, "request-delivered", "[data-package]")
    holds = await gateway.app[STORAGE].holds.in_force(clips["front"], datetime.now(UTC))
    assert [h.request_id for h in holds] == [request_id]
    assert await gateway.app[STORAGE].holds.in_force(clips["garden"], datetime.now(UTC)) == []

    # The agency downloads the package; it verifies offline, and tampering is named.
    await agency.page.reload()
    link = agency.page.locator("li[data-status=delivered] a.button")
    await link.wait_for(timeout=TIMEOUT_MS)
    await look_at(agency, "agency-delivered", "li[data-status=delivered]")
    async with agency.page.expect_download() as download:
        await link.click()
    package = tmp_path / "evidence.zip"
    await (await download.value).save_as(package)
    fingerprint = gateway.app[CHECKPOINTS].key.public.fingerprint
    result = await asyncio.to_thread(verify, package, "--key", fingerprint)
    assert result.returncode == 0, result.stdout
    assert "evidence package ok" in result.stdout
    # Trimmed and silent, so the copy goes alone: the recording as made (and its sound) stays.
    working = f"working/01-front-{clips['front']}.mp4"
    front = await gateway.app[STORAGE].clips.get(clips["front"])
    assert front is not None
    master = gateway.app[STORAGE].database.path.parent / CLIPS_DIR / front.path
    assert await asyncio.to_thread(audio_streams, master) == 1
    with zipfile.ZipFile(package) as archive:
        assert [n for n in archive.namelist() if n.endswith(".mp4")] == [working]
        (tmp_path / "copy.mp4").write_bytes(archive.read(working))
    assert await asyncio.to_thread(audio_streams, tmp_path / "copy.mp4") == 0
    for edit, named in (
        (_flip_byte_in(working), f"{working}: SHA-256 differs"),
        (_edit_manifest, "manifest.json: its signature is not"),
        (_resign, "manifest.json: not made with the pinned key"),
        (_remove_member(working), f"{working}: missing from the package"),
    ):
        bad = await asyncio.to_thread(verify, rewrite(package, edit), "--key", fingerprint)
        assert bad.returncode == 1
        assert named in bad.stdout, bad.stdout
    await page.reload()
    await page.locator(f"button[data-request='{request_id}']").click(timeout=TIMEOUT_MS)
    await page.locator("#downloads li", has_text="by the agency's account").wait_for(
        timeout=TIMEOUT_MS
    )

    # The household's transparency report, and the audit log held to a kept checkpoint.
    await page.click("button:has-text('All requests')")
    await page.locator("details.transparency summary").click()
    await page.click("details.transparency button[type=submit]")
    report = page.locator("#report")
    await report.wait_for(timeout=TIMEOUT_MS)
    assert "1 clip(s) handed over in 1 package(s)" in await report.inner_text()
    await look_at(owner, "transparency-report", "#report")
    await page.goto(gateway.url + "#/audit")
    await page.locator("details.checkpoints summary").click()
    await page.click("#checkpoint-now")
    kept = page.locator(".checkpoint-list a").first
    await kept.wait_for(timeout=TIMEOUT_MS)
    async with page.expect_download() as saved_download:
        await kept.click()
    saved = tmp_path / "checkpoint.txt"
    await (await saved_download.value).save_as(saved)
    await page.set_input_files("input[name=saved-checkpoint]", str(saved))
    await page.locator("#checkpoint-verdict", has_text="Intact").wait_for(timeout=TIMEOUT_MS)
    await look_at(owner, "audit-checkpoints", "#checkpoint-verdict")


async def test_requests_typed_in_or_signed_and_a_masked_grant(  # noqa: PLR0915
    chromium: Browser,  # noqa: F811
    gateway: Gateway,  # noqa: F811
    aiohttp_client: Any,
    tmp_path: Path,
) -> None:
    clips, owner = await owner_at_home(chromium, gateway, aiohttp_client)
    page = owner.page
    key = SigningKey.generate()

    # The owner adds an agency it knows by its signing key (no account on this box).
    await page.goto(gateway.url + "#/requests")
    await page.locator("details.agencies summary").click()
    await page.fill("input[name=agency-name]", "County Sheriff")
    await page.select_option("select[name=verification]", "signed_key")
    await page.fill("textarea[name=public-key]", key.public.pem())
    await page.click("#add-agency button[type=submit]")
    await page.locator("li[data-agency]", has_text=key.public.fingerprint).wait_for(
        timeout=TIMEOUT_MS
    )

    # A request that came by e-mail, typed in: the box checks it as any other.
    await page.locator("details.intake summary").click()
    typed = page.locator("#type-in-request")
    await typed.locator("select[name=typed-agency]").select_option(label=SHERIFF)
    await typed.locator("select[name=channel]").select_option("email")
    now = datetime.now(UTC)
    fields = {
        "case_number": "S-88", "incident_type": "burglary", "officer": "Dep. K. Moss",
        "contact": "kmoss@sheriff.example", "latitude": str(HOME[0]), "longitude": str(HOME[1]),
        "radius": "300", "start": local(now - timedelta(minutes=20)), "end": local(now),
    }  # fmt: skip
    for name, value in fields.items():
        await typed.locator(f"[name={name}]").fill(value)
    await look_at(owner, "request-typed-in", "#type-in-request")
    await typed.locator("button[type=submit]").click()
    await typed.get_by_text("Added: case S-88, waiting for you.").wait_for(timeout=TIMEOUT_MS)

    # A request file signed with the pinned key; then one signed with another key, refused.
    window = {"start": (now - timedelta(minutes=20)).isoformat(), "end": now.isoformat()}
    request = {
        "case_number": "S-89", "incident_type": "burglary",
        "officer": {"name": "Dep. K. Moss", "contact": "kmoss@sheriff.example"},
        "legal_basis": "voluntary", "window": window,
        "area": {"type": "Feature", "properties": {"radius_m": 300},
                 "geometry": {"type": "Point", "coordinates": [HOME[1], HOME[0]]}},
    }  # fmt: skip
    good, forged = tmp_path / "request.json", tmp_path / "forged.json"
    good.write_bytes(sign_request(key, request))
    forged.write_bytes(sign_request(SigningKey.generate(), request | {"case_number": "S-90"}))
    await page.check("input[name=intake] >> nth=1")
    signed = page.locator("#signed-request")
    await signed.locator("select[name=signed-agency]").select_option(label=SHERIFF)
    await signed.locator("input[name=request-file]").set_input_files(str(good))
    await signed.locator("button[type=submit]").click()
    await signed.get_by_text("Signature checked. Added: case S-89").wait_for(timeout=TIMEOUT_MS)
    await look_at(owner, "request-signed-file", "#signed-request")
    await signed.locator("input[name=request-file]").set_input_files(str(forged))
    await signed.locator("button[type=submit]").click()
    await signed.locator("[role=alert]", has_text="file:").wait_for(timeout=TIMEOUT_MS)
    assert [p for p in owner.problems if "422" not in p] == []  # the refusal, and nothing else
    owner.problems.clear()
    listed = {r.channel: r for r in await gateway.app[STORAGE].police_requests.page(limit=10)}
    assert set(listed) == {"email", "signed_file"}
    assert listed["signed_file"].case_number == "S-89"  # the forged one never got in

    # The typed-in request: grant the doorbell's clip with a privacy mask drawn on its poster.
    await page.reload()
    dismiss = page.locator("button:has-text('Dismiss')")
    if await dismiss.count():  # the doorbell's ring banner would lie over the picture
        await dismiss.first.click()
    await page.locator(f"button[data-request='{listed['email'].id}']").click(timeout=TIMEOUT_MS)
    front = page.locator(f"li[data-clip='{clips['front']}']")
    await front.locator("input[value=grant]").check(timeout=TIMEOUT_MS)
    await draw_mask(page, front.locator(".mask-editor"))
    assert await front.locator(".mask-rect").count() == 1
    assert not await front.locator("input[name=original]").is_checked()
    await look_at(owner, "request-masked-grant", ".mask-rect")
    await page.click("#decide")
    await page.locator("[data-package][data-state=ready]").wait_for(timeout=TIMEOUT_MS)
    (receipt,) = await gateway.app[STORAGE].police_requests.receipts(listed["email"].id)
    (granted,) = json.loads(receipt.body)["granted"]
    (mask,) = granted["masks"]
    assert mask["x"] == pytest.approx(0.1, abs=0.03)
    assert mask["w"] == pytest.approx(0.3, abs=0.03)
    assert granted["master_handed_over"] is False
