"""Every page of the web UI at phone (390 by 844) and desktop (1280 by 800) size, light and dark: a
screenshot for a person to look at (test-artifacts/screenshots/), axe-core with no serious or
critical violation, no console error and nothing wider than the screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from doorstep.simulator import Simulator

from .walk import (
    LANDSCAPE,
    NEIGHBOUR_PASSWORD,
    OWNER_PASSWORD,
    RESIDENT_PASSWORD,
    SHOTS,
    Gateway,
    chromium,  # noqa: F401  # fixture
    look_at,
    open_page,
    set_up_owner,
    sign_in,
    start_gateway,
)

pytestmark = pytest.mark.browser


@pytest.fixture
async def walk_simulator(simulator_factory: Any) -> AsyncIterator[Simulator]:
    """A doorbell and two cameras: the second is for discovery to find."""
    async with simulator_factory(cameras=2, doorbells=1) as running:
        yield running


@pytest.fixture
async def gateway(walk_simulator: Simulator, aiohttp_server: Any, tmp_path: Path) -> Gateway:
    return await start_gateway(walk_simulator, aiohttp_server, tmp_path)


async def test_every_page_at_both_sizes_in_both_schemes(  # noqa: PLR0915  # one walk, page by page
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
    aiohttp_client: Any,
) -> None:
    url = gateway.url
    doorbell = gateway.simulator.devices["doorbell-1"]
    garden = gateway.simulator.devices["camera-1"]

    # Signed out: first-run setup, then (once there is an owner) sign-in.
    first = await open_page(await chromium.new_context())
    await first.page.goto(url)
    await first.page.wait_for_url("**/#/setup")
    await look_at(first, "setup", "input[name=token]")
    await set_up_owner(gateway, aiohttp_client)
    await first.page.goto(url + "#/signin")
    await first.page.reload()
    await look_at(first, "signin", "input[name=username]")

    # The owner.
    owner = await open_page(await chromium.new_context())
    page = owner.page
    await sign_in(owner, url, "alice", OWNER_PASSWORD, gateway.otp)
    await page.wait_for_url("**/#/cameras")
    await page.locator(".device[data-host] .name").first.wait_for(timeout=15_000)
    await look_at(owner, "cameras", '.camera[data-camera="front"] img.thumb')
    await page.click("#add-camera summary")
    await look_at(owner, "cameras-add-by-address", "input[name=host]")

    # A ring over the cameras page, then what it and a motion left in the activity feed.
    doorbell.press()
    await look_at(owner, "ring-banner", "#ring:not([hidden]) #answer")
    garden.motion(True)
    await page.wait_for_timeout(1500)
    garden.motion(False)
    await page.goto(url + "#/activity")
    await page.locator(".episode[data-kind=motion]").first.wait_for(timeout=15_000)
    await page.click("#ring button:has-text('Dismiss')")
    await look_at(owner, "activity", ".episode[data-kind=doorbell]")
    await page.click("#raw-toggle")
    await look_at(owner, "activity-raw", "table.timeline tr[data-kind=doorbell]")

    await page.goto(url + "#/camera/front")
    await look_at(owner, "camera", "text=About this camera")
    await page.click("#camera-settings summary")
    await look_at(owner, "camera-settings", "input[name=camera-name]")
    await page.goto(url + "#/camera/garage")
    await look_at(owner, "camera-unreachable", ".camera-sentence")
    await page.goto(url + "#/live/front")
    await look_at(owner, "live", ".live-status[data-state=connected]")
    await page.goto(url + "#/users")
    await look_at(owner, "users", '.user[data-user="rita"]')
    await page.goto(url + "#/audit")
    await look_at(owner, "audit", ".audit-row")
    await page.goto(url + "#/settings")
    await look_at(owner, "settings", "text=Events dropped")
    await page.click("text=Replace second factor")
    await look_at(owner, "second-factor", "#totp-secret")
    await page.goto(url + "#/notifications")
    await look_at(owner, "notifications", "#push-household input[name=push-enabled]")
    await page.goto(url + "#/webhooks")
    await look_at(owner, "webhooks-empty", "#add-webhook")
    await page.goto(url + "#/gateway")
    await look_at(owner, "gateway-settings", "#section-retention input")
    await page.goto(url + "#/shares")
    await look_at(owner, "shares-empty", "text=Nothing shared yet")
    await page.goto(url + "#/sharing")
    await look_at(owner, "sharing-settings", "input[name=latitude]")
    await page.goto(url + "#/nowhere")
    await look_at(owner, "not-found", "text=There is no such page.")

    # A resident: her cameras, and an owner's page she cannot open.
    resident = await open_page(await chromium.new_context())
    await sign_in(resident, url, "rita", RESIDENT_PASSWORD)
    await resident.page.wait_for_url("**/#/cameras")
    await look_at(resident, "resident-cameras", '.camera[data-camera="garden"] img.thumb')
    await resident.page.goto(url + "#/notifications")
    await look_at(resident, "resident-notifications", "#this-device")
    assert await resident.page.locator('nav.subnav a[href="#/gateway"]').count() == 0
    await resident.page.goto(url + "#/audit")
    await look_at(resident, "resident-owner-only", "text=Only the owner can open this page.")
    assert await resident.page.locator('nav a[href="#/audit"]').count() == 0

    # A neighbour: what is shared with the account, and the account page.
    neighbour = await open_page(await chromium.new_context())
    await sign_in(neighbour, url, "ned", NEIGHBOUR_PASSWORD)
    await neighbour.page.wait_for_url("**/#/shared")
    await look_at(neighbour, "neighbour-shared", "text=Nothing shared with you")
    await neighbour.page.goto(url + "#/settings")
    await look_at(neighbour, "neighbour-settings", "text=are for the household")


async def test_the_ring_banner_never_covers_the_video_of_a_phone_on_its_side(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
    aiohttp_client: Any,
) -> None:
    await set_up_owner(gateway, aiohttp_client)
    context = await chromium.new_context(viewport=LANDSCAPE, is_mobile=True, has_touch=True)
    watched = await open_page(context)
    page = watched.page
    await sign_in(watched, gateway.url, "rita", RESIDENT_PASSWORD)
    await page.goto(gateway.url + "#/live/front")
    await page.locator(".live-status[data-state=connected]").wait_for(timeout=20_000)
    gateway.simulator.devices["doorbell-1"].press()
    await page.locator("#ring:not([hidden])").wait_for(timeout=10_000)
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(SHOTS / "live-ring-landscape.png"))
    ring = await page.locator("#ring").bounding_box()
    video = await page.locator("video.live-video").bounding_box()
    top = await page.locator(".topbar").bounding_box()
    assert ring is not None
    assert video is not None
    assert top is not None
    assert ring["y"] >= top["y"] + top["height"] - 1, (ring, top)  # in sight, not scrolled away
    assert ring["y"] + ring["height"] <= video["y"], (ring, video)  # above it, not over it
    assert video["y"] + video["height"] <= LANDSCAPE["height"], video  # and still on screen
    # Answer while in that very call changes nothing: the same call goes on.
    await page.click("#answer")
    await page.wait_for_timeout(500)
    assert page.url.endswith("#/live/front")
    assert await page.locator(".live-status").inner_text() == "Live"
    assert watched.problems == []
