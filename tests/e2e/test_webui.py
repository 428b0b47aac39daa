"""The web UI in headless Chromium (Debian's, driven by Playwright) against a real gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, async_playwright

from ..conftest import StartGateway

CHROMIUM = "/usr/bin/chromium"
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS
        )
        yield chromium
        await chromium.close()


async def test_page_shows_gateway_health(
    browser: Browser, start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    gateway = start_gateway("demo", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    gateway.wait_for_output("Doorstep is running")
    page = await browser.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"http://127.0.0.1:{port}/")
    status = page.locator("#status")
    await status.filter(has_text="ok").wait_for(timeout=10_000)
    assert await status.get_attribute("data-state") == "ok"
    assert "version" in await page.locator("#version").inner_text()
    components = await page.locator("#components").inner_text()
    assert "Storage" in components
    assert "rtsp" in components
    # The demo adopts the simulated doorbell and camera.
    summary = page.locator("#cameras-summary")
    await summary.filter(has_text="2 camera(s): 2 online").wait_for(timeout=10_000)
    assert problems == []  # no script errors, no CSP violations
    await page.screenshot(path=str(tmp_path / "webui.png"))
