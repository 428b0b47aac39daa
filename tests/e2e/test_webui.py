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


async def test_demo_opens_on_first_run_setup_on_a_phone(
    browser: Browser, start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    gateway = start_gateway("demo", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    gateway.wait_for_output("setup token")
    assert "setup token" not in (tmp_path / "data" / "doorstep.yaml").read_text()
    page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"http://127.0.0.1:{port}/")
    await page.wait_for_url("**/#/setup")
    await page.get_by_text("Create the owner account").wait_for()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows a phone screen
    assert problems == []  # no script errors, no CSP violations
    await page.screenshot(path=str(tmp_path / "setup-phone.png"))
