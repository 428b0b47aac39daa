"""The clips page in Debian's Chromium against the real gateway: a resident with a grant plays a
recorded clip in the page (time advances, frames are decoded, no media error), seeks and
downloads it; a resident without one sees no clip and gets 404 for its video."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipRecord
from doorstep.gateway.web.keys import ACCOUNTS, STORAGE
from doorstep.simulator.media import encode_video_loop

from ..recording.clips import T0, write_clip
from ..settings.conftest import (  # noqa: F401  # fixtures
    CONSOLE,
    PASSWORD,
    Gateway,
    StartGateway,
    data_dir,
    start_gateway,
)
from ..simulator.conftest import media, simulator_factory  # noqa: F401
from .test_webui import CHROMIUM, QUIET_FLAGS

pytestmark = pytest.mark.browser

CAMERAS = [{"id": "front", "name": "Front door", "driver": "rtsp", "host": "127.0.0.1", "port": 9}]
CLIP = "C" * 22
VIDEO = "document.querySelector('#clip-video')"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium; tests take it after the gateway, so it closes (ending the page's event
    stream) before the gateway stops."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> Gateway:  # noqa: F811
    running = await start_gateway(cameras=CAMERAS, recording={"mode": "off"})
    loop = await asyncio.to_thread(encode_video_loop, 640, 360, 15, 6)
    root = running.app[STORAGE].database.path.parent / CLIPS_DIR
    path = await asyncio.to_thread(write_clip, root, loop, CLIP, close=True, camera="front")
    await running.app[STORAGE].clips.add(
        ClipRecord(CLIP, "front", path.relative_to(root).as_posix(), T0, T0,
                   size_bytes=path.stat().st_size, duration_ms=6000, frames=90, kinds=("doorbell",))
    )  # fmt: skip
    accounts = running.app[ACCOUNTS]
    rita = await accounts.create_user(CONSOLE, "rita", PASSWORD, "resident", "test")
    await accounts.update_user(CONSOLE, rita.id, None, None, {"front"}, "test")
    await accounts.create_user(CONSOLE, "nina", PASSWORD, "resident", "test")
    return running


async def signed_in(browser: Browser, gateway: Gateway, name: str, **viewport: Any) -> Page:
    page = await browser.new_page(viewport=viewport or {"width": 1100, "height": 800},
                                  accept_downloads=True)  # fmt: skip
    url = str(gateway.server.make_url("/"))
    await page.goto(url + "#/signin")
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_function("() => location.hash !== '#/signin'")
    return page


async def test_a_resident_plays_seeks_and_downloads_a_clip(
    gateway: Gateway, browser: Browser, tmp_path: Path
) -> None:
    page = await signed_in(browser, gateway, "rita", width=412, height=915)  # a phone
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(str(gateway.server.make_url("/")) + "#/clips")
    card = page.locator(f".clip-card[data-clip='{CLIP}']")
    await card.wait_for(timeout=10_000)
    await card.click()
    await page.wait_for_function(f"() => {VIDEO} && {VIDEO}.currentTime > 0.5", timeout=10_000)
    played = await page.evaluate(
        f"() => ({{t: {VIDEO}.currentTime,"
        f" frames: {VIDEO}.getVideoPlaybackQuality().totalVideoFrames,"
        f" error: {VIDEO}.error && {VIDEO}.error.code, duration: {VIDEO}.duration}})"
    )
    assert played["error"] is None
    assert played["frames"] > 0
    assert abs(played["duration"] - 6.0) < 0.3
    await page.evaluate(f"() => {{ {VIDEO}.currentTime = 4.5; }}")
    await page.wait_for_function(
        f"() => !{VIDEO}.seeking && {VIDEO}.currentTime >= 4.4", timeout=10_000
    )
    assert await page.evaluate(f"() => {VIDEO}.error") is None
    async with page.expect_download() as waiting:
        await page.click("#clip-download")
    download = await waiting.value
    assert download.suggested_filename == "front-2026-11-30-201501.mp4"
    saved = tmp_path / "saved.mp4"
    await download.save_as(saved)
    assert saved.read_bytes()[4:8] == b"ftyp"
    assert errors == []


async def test_a_resident_without_a_grant_sees_no_clip(gateway: Gateway, browser: Browser) -> None:
    page = await signed_in(browser, gateway, "nina")
    await page.goto(str(gateway.server.make_url("/")) + "#/clips")
    await page.locator("#no-clips").wait_for(timeout=10_000)
    assert await page.locator(".clip-card").count() == 0
    status = await page.evaluate(f"() => fetch('/api/clips/{CLIP}/video').then(r => r.status)")
    assert status == 404
