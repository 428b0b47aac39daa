"""Sharing in Debian's Chromium against the real gateway and simulator: the owner records a
doorbell clip, shares it with a mask and no sound, a fresh browser (no account) plays the link,
the owner's Shares page shows the view as it happens, the owner ends the share while it plays:
the next Range request fails and the page says so. A neighbour sees only its own feed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import pytest
from playwright.async_api import Browser

from doorstep.gateway.storage import ClipQuery
from doorstep.gateway.web.keys import ACCOUNTS, SHARES, STORAGE
from doorstep.simulator import Simulator

from .walk import (
    NEIGHBOUR_PASSWORD,
    OWNER_PASSWORD,
    Gateway,
    Watched,
    chromium,  # noqa: F401  # fixture
    draw_mask,
    look_at,
    open_page,
    set_up_owner,
    sign_in,
    start_gateway,
)

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000
VIDEO = "document.querySelector('.shared-clip video')"
FETCH_JS = """async ([method, path, body]) => {
    const r = await fetch(path, {method, body: body === null ? undefined : JSON.stringify(body),
        headers: {"Content-Type": "application/json", Accept: "application/json"}});
    return [r.status, await r.json()];
}"""


@pytest.fixture
async def share_simulator(simulator_factory: Any) -> AsyncIterator[Simulator]:
    async with simulator_factory(cameras=1, doorbells=1) as running:
        yield running


@pytest.fixture
async def gateway(share_simulator: Simulator, aiohttp_server: Any, tmp_path: Path) -> Gateway:
    recording = {"recording": {"mode": "events", "preroll_s": 2.0, "postroll_s": 2.0}}
    return await start_gateway(share_simulator, aiohttp_server, tmp_path, recording)


async def recorded_clip(gateway: Gateway) -> str:
    """Press the doorbell; the id of the clip it records, once its poster is there."""
    await asyncio.sleep(2.5)  # the pre-roll fills
    assert gateway.simulator.devices["doorbell-1"].press()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        found = await gateway.app[STORAGE].clips.find(ClipQuery(cameras=["front"]))
        if found and found[0].poster:
            return found[0].id
        await asyncio.sleep(0.2)
    raise AssertionError("no clip recorded within 40 s")


async def owner_page(chromium: Browser, gateway: Gateway, aiohttp_client: Any) -> Watched:  # noqa: F811
    await set_up_owner(gateway, aiohttp_client)
    owner = await open_page(await chromium.new_context(viewport={"width": 1280, "height": 900}))
    await sign_in(owner, gateway.url, "alice", OWNER_PASSWORD, gateway.otp)
    return owner


async def test_share_a_clip_watch_it_by_link_and_end_it_while_it_plays(  # noqa: PLR0915
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
    aiohttp_client: Any,
) -> None:
    clip_id = await recorded_clip(gateway)
    owner = await owner_page(chromium, gateway, aiohttp_client)
    page = owner.page
    await page.goto(gateway.url + "#/clips")
    await page.locator(f".clip-card[data-clip='{clip_id}']").click(timeout=TIMEOUT_MS)
    await page.click("#clip-share")
    dialog = page.locator("dialog#share-dialog")
    await dialog.wait_for()
    await page.fill("input[name=share-title]", "Someone at the door")
    await draw_mask(page, page.locator(".mask-editor"))
    assert await page.locator(".mask-rect").count() == 1
    assert not await page.is_checked("input[name=share-audio]")  # sound off by default
    await look_at(owner, "share-dialog", "input[name=share-title]")
    await dialog.locator("button[type=submit]").click()
    link = await page.locator("#share-link input").input_value(timeout=TIMEOUT_MS)
    assert "/s/" in link
    await look_at(owner, "share-link-once", "#share-link img.qr")
    await dialog.locator("button:has-text('Close')").click()

    [state] = await gateway.app[SHARES].newest()
    for _ in range(300):
        state = await gateway.app[SHARES].get(state.record.id) or state
        if state.status != "preparing":
            break
        await asyncio.sleep(0.1)
    assert state.status == "active"
    item = state.items[0]
    assert item.masks
    assert not item.has_audio
    copy = gateway.app[SHARES].derivations.share_root / str(item.file)
    with av.open(str(copy)) as container:
        assert len(container.streams.audio) == 0

    await page.goto(gateway.url + "#/shares")
    row = page.locator(f".share-row[data-share='{state.record.id}']")
    await row.wait_for(timeout=TIMEOUT_MS)
    assert "0 views" in await row.inner_text()

    # A stranger's phone, no account: the link plays.
    stranger = await open_page(await chromium.new_context(viewport={"width": 390, "height": 844}))
    sent_referers: list[str] = []
    stranger.page.on("request", lambda r: sent_referers.append(r.headers.get("referer", "")))
    await stranger.page.goto(link)
    await stranger.page.wait_for_function(
        f"() => {VIDEO} && {VIDEO}.readyState >= 2", timeout=TIMEOUT_MS
    )
    await stranger.page.evaluate(f"() => {VIDEO}.play()")
    await stranger.page.wait_for_function(f"() => {VIDEO}.currentTime > 0.3", timeout=TIMEOUT_MS)
    assert await stranger.page.evaluate(f"() => {VIDEO}.error") is None
    assert set(sent_referers) == {""}  # no request of the page carried a Referer
    await look_at(stranger, "share-public-page", ".shared-clip video")

    # The owner's page shows the view as it happens.
    await row.get_by_text("1 view").wait_for(timeout=TIMEOUT_MS)
    await page.locator(".notice").get_by_text("Someone with the link watched").wait_for()

    # The owner ends it while it plays: the next Range request fails, the page says so.
    await row.locator("button.share-summary").click()
    await page.click("#share-revoke")
    await page.locator("dialog#confirm button.danger").click()
    await row.locator(".state", has_text="Ended").wait_for(timeout=TIMEOUT_MS)
    status = await stranger.page.evaluate(
        f"() => fetch({VIDEO}.currentSrc, {{headers: {{Range: 'bytes=0-99'}}}}).then(r => r.status)"
    )
    assert status == 404
    await stranger.page.evaluate(f"() => {{ {VIDEO}.currentTime = 0; {VIDEO}.play(); }}")
    await stranger.page.get_by_text("This share has ended").wait_for(timeout=TIMEOUT_MS)
    await look_at(owner, "shares", ".share-row")
    stranger.problems.clear()  # the refused media request is logged by the browser, by design


async def test_a_neighbour_sees_its_shares_and_nothing_of_the_household(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
    aiohttp_client: Any,
) -> None:
    clip_id = await recorded_clip(gateway)
    await set_up_owner(gateway, aiohttp_client)
    users = {u.username: u.id for u, _ in await gateway.app[ACCOUNTS].list_users()}
    owner = await open_page(await chromium.new_context())
    await sign_in(owner, gateway.url, "alice", OWNER_PASSWORD, gateway.otp)
    status, made = await owner.page.evaluate(FETCH_JS, ["POST", "/api/shares", {
        "title": "For Ned", "category": "other", "items": [{"clip_id": clip_id}], "link": False,
        "recipients": [users["ned"]],
    }])  # fmt: skip
    assert status == 201, made
    neighbour = await open_page(await chromium.new_context(viewport={"width": 390, "height": 844}))
    await sign_in(neighbour, gateway.url, "ned", NEIGHBOUR_PASSWORD)
    await neighbour.page.wait_for_url("**/#/shared")
    entry = neighbour.page.locator(f"button[data-share='{made['share']['id']}']")
    await entry.wait_for(timeout=TIMEOUT_MS)
    for _ in range(300):
        state = await gateway.app[SHARES].get(made["share"]["id"])
        if state is not None and state.status == "active":
            break
        await asyncio.sleep(0.1)
    await entry.click()
    await neighbour.page.wait_for_function(
        f"() => {VIDEO} && {VIDEO}.readyState >= 2", timeout=TIMEOUT_MS
    )
    await look_at(neighbour, "neighbour-share", ".shared-clip video")
    for path in ("/api/cameras", "/api/clips", f"/api/clips/{clip_id}/video", "/api/events",
                 "/api/shares", "/api/users", "/api/audit", "/api/live/ice",
                 "/api/cameras/front/snapshot"):  # fmt: skip
        got = await neighbour.page.evaluate(f"() => fetch('{path}').then(r => r.status)")
        assert got in (403, 404), path
    neighbour.problems.clear()  # the refusals above are logged by the browser, by design
