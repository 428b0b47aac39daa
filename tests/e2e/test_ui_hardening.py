"""The UI side of issue 11 in headless Chromium: a stale session is asked for the password
before a security-sensitive change, and a neighbour's account shows no camera page. Screenshots
at phone and desktop size go to test-artifacts/ui/."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, Page, ViewportSize

from .test_ui_flows import OWNER_PASSWORD, browser, gateway, simulated, snap  # noqa: F401  # fixtures

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1100, "height": 800}
NEIGHBOUR_PASSWORD = "neighbour password"


def age_sessions(data_dir: Path) -> None:
    """Make every session's proof of password an hour old (what a stolen cookie looks like)."""
    old = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    conn = sqlite3.connect(data_dir / "doorstep.db")
    try:
        conn.execute("UPDATE sessions SET confirmed_at = ?", (old,))
        conn.commit()
    finally:
        conn.close()


async def set_up(page: Page, url: str, token: str) -> pyotp.TOTP:
    await page.goto(url)
    await page.wait_for_url("**/#/setup")
    await page.fill("input[name=token]", token)
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", OWNER_PASSWORD)
    await page.click("button[type=submit]")
    await page.click("text=Set up a second factor")
    otp = pyotp.TOTP(await page.locator("#totp-secret").inner_text())
    await page.fill("input[name=totp-code]", otp.now())
    await page.click("text=Turn on")
    await page.click("#codes-saved")  # after the recovery codes, shown once
    await page.wait_for_url("**/#/cameras")
    return otp


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_a_stale_session_confirms_the_password_and_a_neighbour_sees_no_cameras(
    browser: Browser,  # noqa: F811
    gateway: tuple[str, str],  # noqa: F811
    tmp_path: Path,
    viewport: ViewportSize,
) -> None:
    url, token = gateway
    size = "phone" if viewport is PHONE else "desktop"
    page = await browser.new_page(viewport=viewport)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    otp = await set_up(page, url, token)

    age_sessions(tmp_path / "data")
    await page.goto(url + "#/users")
    await page.fill("input[name=new-username]", "ned")
    await page.fill("input[name=new-password]", NEIGHBOUR_PASSWORD)
    await page.select_option("select[name=new-role]", "neighbour")
    assert await page.locator("#new-user fieldset.grants").is_hidden()  # no grants for the role
    await page.click("#new-user button[type=submit]")
    dialog = page.locator("dialog#reauth")
    await dialog.wait_for()
    await page.fill("input[name=confirm-password]", OWNER_PASSWORD)
    await dialog.locator("button[type=submit]").click()
    await dialog.locator("input[name=confirm-code]").wait_for()  # asks for the code next
    await page.fill("input[name=confirm-code]", otp.at(int(time.time()) + 30))
    await snap(page, f"20-confirm-identity-{size}")
    await dialog.locator("button[type=submit]").click()
    await page.locator('.user[data-user="ned"]').wait_for()  # the request went through
    assert await dialog.count() == 0

    await page.click("#signout")
    await page.wait_for_url("**/#/signin")
    await page.fill("input[name=username]", "ned")
    await page.fill("input[name=password]", NEIGHBOUR_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/#/shared")  # a neighbour's one page: what is shared with it
    await page.get_by_text("Nothing shared with you").wait_for()
    assert await page.locator('nav a[href="#/cameras"]').is_hidden()
    assert await page.locator('nav a[href="#/events"]').is_hidden()
    await page.goto(url + "#/cameras")
    await page.wait_for_url("**/#/shared")  # no camera page for a neighbour
    await page.goto(url + "#/settings")
    await page.get_by_text("are for the household").wait_for()
    await snap(page, f"21-neighbour-{size}")
    assert problems == []
