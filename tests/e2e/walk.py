"""Shared pieces of the browser tests of the rebuilt UI: an in-process gateway with the simulated
doorbell and camera plus a camera that cannot be reached, accounts for every role, sign-in
through the form, and the per-page check (screenshots at both sizes and schemes, axe-core, no
console error, nothing wider than a phone)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pyotp
import pytest
from aiohttp import web
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    async_playwright,
)

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import ACCOUNTS
from doorstep.simulator import Simulator

from ..conftest import REPO
from ..gateway_client import call, until_online
from .test_webui import CHROMIUM, QUIET_FLAGS

SHOTS = REPO / "test-artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
LANDSCAPE: ViewportSize = {"width": 844, "height": 390}
SIZES: dict[str, ViewportSize] = {"phone": PHONE, "desktop": DESKTOP}
OWNER_PASSWORD = "correct horse battery"
RESIDENT_PASSWORD = "resident password"
NEIGHBOUR_PASSWORD = "neighbour password"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}));
}"""


@dataclass
class Gateway:
    """The running gateway: its URL, app, the owner's second factor, the simulator."""

    url: str
    app: web.Application
    server: Any
    simulator: Simulator
    otp: pyotp.TOTP | None = None


def walk_config(
    simulator: Simulator, data_dir: Path, extra: dict[str, Any] | None = None
) -> Config:
    """The simulator's doorbell (front) and first camera (garden), a camera nobody can reach;
    discovery asks the simulator (its other devices are found, not adopted); `extra` sections
    on top (a test's push receiver)."""
    doorbell = simulator.devices["doorbell-1"].profile
    camera = simulator.devices["camera-1"].profile
    return Config.model_validate({
        **(extra or {}),
        "storage": {"data_dir": data_dir},
        "live": {"host_addresses": ["127.0.0.1"]},
        "discovery": {"targets": [f"127.0.0.1:{simulator.discovery_port}"], "listen_s": 0.5},
        "cameras": [
            {"id": "front", "name": "Front door", "host": doorbell.host,
             "port": doorbell.onvif_port, "username": doorbell.username,
             "password": doorbell.password},
            {"id": "garden", "name": "Garden", "host": camera.host, "port": camera.onvif_port,
             "username": camera.username, "password": camera.password},
            {"id": "garage", "name": "Garage", "driver": "rtsp", "host": "127.0.0.1", "port": 9},
        ],
    })  # fmt: skip


async def start_gateway(
    simulator: Simulator, aiohttp_server: Any, tmp_path: Path, extra: dict[str, Any] | None = None
) -> Gateway:
    """Build and serve the gateway; wait for the simulated cameras; add rita and ned."""
    app: web.Application = await asyncio.to_thread(
        build_app, walk_config(simulator, tmp_path / "data", extra)
    )
    server = await aiohttp_server(app, shutdown_timeout=1.0)  # pages keep SSE open
    console = Principal(0, "console", "owner")
    accounts = app[ACCOUNTS]
    rita = await accounts.create_user(console, "rita", RESIDENT_PASSWORD, "resident", "test")
    await accounts.update_user(console, rita.id, None, None, {"front", "garden"}, "test")
    await accounts.create_user(console, "ned", NEIGHBOUR_PASSWORD, "neighbour", "test")
    await until_online(app, "front")
    await until_online(app, "garden")
    return Gateway(f"http://127.0.0.1:{server.port}/", app, server, simulator)


async def set_up_owner(gateway: Gateway, aiohttp_client: Any) -> None:
    """First run through the API (the walk looks at the setup page before this)."""
    client = await aiohttp_client(gateway.server)
    token = gateway.app[ACCOUNTS].setup_token
    status, _ = await call(
        client, "POST", "/api/setup",
        {"token": token, "username": "alice", "password": OWNER_PASSWORD},
    )  # fmt: skip
    assert status == 201
    status, started = await call(client, "POST", "/api/me/totp")
    assert status == 200
    gateway.otp = pyotp.TOTP(started["secret"])
    status, _ = await call(client, "POST", "/api/me/totp/confirm", {"code": gateway.otp.now()})
    assert status == 200


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium with fake media devices (the live page asks for the microphone)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=[*QUIET_FLAGS, "--allow-loopback-in-peer-connection",
                  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
        )  # fmt: skip
        yield browser
        await browser.close()


@dataclass
class Watched:
    """A page and the console errors and script errors it produced."""

    page: Page
    problems: list[str] = field(default_factory=list)


async def open_page(context: BrowserContext) -> Watched:
    """A new page whose console errors and uncaught exceptions are collected."""
    page = await context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            # A failed load's text has no address; its location is the resource's.
            where = urlsplit(message.location.get("url") or "")
            path = f" [{where.path}]" if where.path else ""
            watched.problems.append(f"console: {message.text}{path}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"error: {error}"))
    return watched


async def sign_in(watched: Watched, url: str, username: str, password: str,
                  otp: pyotp.TOTP | None = None) -> None:  # fmt: skip
    """Through the form, with the authenticator code when asked.

    The API answers the password alone with 401 "totp_required" for an account with a second
    factor, by design; the browser logs that response as a failed load. That one is dropped."""
    page = watched.page
    before = len(watched.problems)
    await page.goto(url + "#/signin")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    if otp is not None:
        code = page.locator("input[name=code]")
        await code.wait_for()
        await code.fill(otp.at(int(time.time()) + 30))  # the setup used the current step
        await page.click("button[type=submit]")
    await page.wait_for_function("() => !location.hash.startsWith('#/signin')")
    expected = "console: Failed to load resource: the server responded with a status of 401"
    during = watched.problems[before:]
    if otp is not None and during and during[0].startswith(expected):
        del watched.problems[before]


async def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is (the CSP stays on:
    evaluating through the DevTools protocol is not an inline script)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(await asyncio.to_thread(AXE.read_text))
    found: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    return [v for v in found if v["impact"] in ("serious", "critical")]


Scheme = Literal["light", "dark"]


async def look_at(watched: Watched, name: str, ready: str | None = None) -> None:
    """The page at both sizes in both schemes: screenshots, axe, console, width."""
    page = watched.page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size_name, size in SIZES.items():
        await page.set_viewport_size(size)
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme)
            if ready:
                await page.locator(ready).first.wait_for(timeout=15_000)
            await page.wait_for_timeout(150)  # a frame for the layout and the transition
            shot = SHOTS / f"{name}-{size_name}-{scheme}.png"
            await page.screenshot(path=str(shot), full_page=True)
            bad = await axe(page)
            assert bad == [], f"{name} {size_name} {scheme}: {bad}"
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], f"{name} {size_name}: {width} px wide"
    await page.emulate_media(color_scheme="light")
    assert watched.problems == [], f"{name}: {watched.problems}"


async def draw_mask(page: Any, editor: Any) -> None:
    """Drag a rectangle over a mask editor: from 10 % to 40 % across, 10 % to 50 % down."""
    await editor.scroll_into_view_if_needed()
    box = await editor.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5, steps=5)
    await page.mouse.up()
