"""The web UI as people use it, in headless Chromium against a real gateway and simulator:
first-run setup with a second factor, adopting the simulated doorbell, the ring banner, a
resident who may not see the doorbell, hostile camera names, sign-out. Screenshots of each page
go to test-artifacts/ (not committed) for a person to look at."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, Page, async_playwright

from doorstep.gateway.auth import recovery

from ..conftest import REPO, GatewayProcess, StartGateway, free_port
from .test_webui import CHROMIUM, QUIET_FLAGS

ARTIFACTS = REPO / "test-artifacts" / "ui"
OWNER_PASSWORD = "correct horse battery"
RESIDENT_PASSWORD = "resident password"
SCRIPT_NAME = '"><img src=x onerror=alert(1)>'

pytestmark = pytest.mark.browser


class Simulated:
    """`doorstep simulate` in a process, driven through its control API."""

    def __init__(self, process: GatewayProcess, control: Path) -> None:
        self.process = process
        saved = json.loads(control.read_text())
        self.url, self.token = saved["url"], saved["token"]
        found = re.search(r"discovery:\s+udp://127\.0\.0\.1:(\d+)", process.output())
        assert found, process.output()
        self.discovery_port = int(found.group(1))

    def control(self, path: str, body: dict[str, object] | None = None) -> None:
        request = urllib.request.Request(  # noqa: S310  # loopback control API
            self.url + path, data=json.dumps(body or {}).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 200


@pytest.fixture
def simulated(start_gateway: StartGateway, tmp_path: Path) -> Simulated:
    control = tmp_path / "simulator.json"
    process = start_gateway(
        "simulate", "--cameras", "1", "--doorbells", "1", "--discovery-port", "0",
        "--control-file", str(control),
    )  # fmt: skip
    process.wait_for_output("simulator running", timeout=60)
    return Simulated(process, control)


@pytest.fixture
def gateway(start_gateway: StartGateway, simulated: Simulated, tmp_path: Path) -> tuple[str, str]:
    port = free_port()
    config = tmp_path / "doorstep.yaml"
    config.write_text(
        f"server: {{port: {port}}}\nstorage: {{data_dir: {tmp_path / 'data'}}}\n"
        f"discovery: {{targets: ['127.0.0.1:{simulated.discovery_port}'], listen_s: 0.5}}\n"
    )
    process = start_gateway("run", "--config", str(config))
    process.wait_for_output("setup token")
    token = re.search(r"setup token (\S+)", process.output())
    assert token
    return f"http://127.0.0.1:{port}/", token.group(1)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS
        )
        yield chromium
        await chromium.close()


async def snap(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_owner_and_resident_journeys(  # noqa: PLR0915  # one journey, step by step
    browser: Browser, gateway: tuple[str, str], simulated: Simulated
) -> None:
    url, setup_token = gateway
    page = await browser.new_page(viewport={"width": 1100, "height": 800})
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "401" not in m.text else None,
    )
    page.on("dialog", lambda d: dialogs.append(d.message))

    # First run: the owner account, then its required second factor.
    await page.goto(url)
    await page.wait_for_url("**/#/setup")
    await snap(page, "01-setup")
    await page.fill("input[name=token]", setup_token)
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", OWNER_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/#/settings")
    await page.get_by_text("Owner accounts need a second factor").wait_for()
    await page.click("text=Set up a second factor")
    secret = await page.locator("#totp-secret").inner_text()
    await snap(page, "02-second-factor")
    await page.fill("input[name=totp-code]", pyotp.TOTP(secret).now())
    await page.click("text=Turn on")
    # The one-time recovery codes are shown once, before anything else.
    codes = page.locator("#recovery-codes code")
    await codes.first.wait_for()
    assert await codes.count() == recovery.COUNT
    await snap(page, "02b-recovery-codes")
    await page.click("#codes-saved")
    await page.wait_for_url("**/#/cameras")

    # Discovery lists the simulated devices; a hostile camera name stays text.
    simulated.control("/devices/camera-1/hostile", {"mode": "script_name"})
    await page.reload()
    doorbell = page.locator(".device[data-host]").filter(has_text="doorbell-1")
    await doorbell.wait_for()
    hostile = page.locator(".device .name", has_text=SCRIPT_NAME)
    await hostile.wait_for()
    await snap(page, "03-cameras-discovered")
    await doorbell.locator("input[name=password]").fill("doorstep")
    await doorbell.locator("input[name=name]").fill("Front door")
    await doorbell.get_by_role("button", name="Adopt").click()
    card = page.locator('.camera[data-camera="front-door"]')
    await card.wait_for()
    await card.locator(".state.online").wait_for(timeout=15_000)
    simulated.control("/devices/camera-1/hostile", {"mode": None})
    # The page's event stream is open (the gateway subscribes it before answering) before the
    # press: a press made earlier would ring on no page, however fast the machine.
    async with page.expect_response(lambda r: r.url.endswith("/api/events/stream"), timeout=30_000):
        await page.reload()
    await card.locator("img.thumb").wait_for()
    await snap(page, "04-cameras-adopted")

    # A press shows the ring banner (how fast: bench/live.py's press → banner figure).
    assert await page.locator("#ring").is_hidden()
    simulated.control("/devices/doorbell-1/press")
    await page.locator("#ring:not([hidden])").wait_for(timeout=30_000)
    assert await page.locator("#ring .ring-camera").inner_text() == "Front door"
    await snap(page, "05-ring-banner")
    await page.click("#answer")
    await page.wait_for_url("**/#/live/front-door")
    await page.locator("#talk").wait_for()
    await snap(page, "06-live-view")
    await page.click("#hangup")
    await page.wait_for_url("**/#/camera/front-door")
    await page.get_by_text("SimDoorbell D1").wait_for()
    await snap(page, "06b-camera-page")

    # The activity feed: the press as one card in words; the raw rows behind a toggle.
    await page.goto(url + "#/activity")
    ring = page.locator(".episode[data-kind=doorbell]").first
    await ring.wait_for()
    assert "Someone rang the doorbell at Front door" in await ring.inner_text()
    await page.click("#raw-toggle")
    await page.locator("table.timeline tr[data-kind=doorbell]").first.wait_for()
    await snap(page, "07-events")

    # A resident with no camera granted.
    await page.goto(url + "#/users")
    await page.fill("input[name=new-username]", "rita")
    await page.fill("input[name=new-password]", RESIDENT_PASSWORD)
    await page.click("#new-user button[type=submit]")
    await page.locator('.user[data-user="rita"]').wait_for()
    await snap(page, "08-users")
    await page.goto(url + "#/audit")
    await page.click("text=Verify chain")
    await page.get_by_text("Chain intact").wait_for()
    await snap(page, "09-audit")
    await page.goto(url + "#/settings")
    await snap(page, "10-settings")
    await page.click("#signout")
    await page.wait_for_url("**/#/signin")

    await page.fill("input[name=username]", "rita")
    await page.fill("input[name=password]", RESIDENT_PASSWORD)
    await page.click("button[type=submit]")
    await page.locator("#no-cameras").wait_for()
    assert await page.locator('a[href="#/users"]').is_hidden()
    await snap(page, "11-resident-cameras")
    simulated.control("/devices/doorbell-1/press")
    await page.wait_for_timeout(1500)
    assert await page.locator("#ring").is_hidden()  # not her doorbell
    await page.goto(url + "#/camera/front-door")
    await page.get_by_text("No such camera, or it is not shared with you.").wait_for()
    await page.click("#signout")
    await page.wait_for_url("**/#/signin")
    await snap(page, "12-signed-out")

    # The owner signs back in with password and second factor.
    await page.fill("input[name=username]", "alice")
    await page.fill("input[name=password]", OWNER_PASSWORD)
    await page.click("button[type=submit]")
    code = page.locator("input[name=code]")
    await code.wait_for()
    await code.fill(pyotp.TOTP(secret).at(int(time.time()) + 30))  # the enrolment's step is spent
    await snap(page, "13-sign-in-second-factor")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/#/cameras")
    await card.wait_for()

    assert dialogs == []  # no script ran from the hostile camera name
    assert problems == []
