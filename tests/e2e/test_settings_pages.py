"""The settings pages in headless Chromium against a real gateway and the simulator: this
device's notifications (the page's PushManager is stubbed as in test_pwa.py, since headless
Chromium has no push service; the gateway's messages go through test_pwa.py's loopback RFC 8030
receiver, which decrypts them), the owner's household push switch behind "confirm it is you",
outgoing webhooks against a loopback receiver that checks each request's signature with the
secret the page showed once, and the gateway settings forms built from the API's schemas.
Screenshots of each state at both sizes and schemes go to test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from doorstep.gateway.automation.webhook_signing import verify
from doorstep.gateway.config.models import RetentionConfig
from doorstep.gateway.web.keys import PUSH, SETTINGS
from doorstep.simulator import Simulator

from .test_pwa import STUB_JS, PushReceiver, b64u
from .walk import (
    OWNER_PASSWORD,
    RESIDENT_PASSWORD,
    Gateway,
    Watched,
    chromium,  # noqa: F401  # fixture
    look_at,
    open_page,
    set_up_owner,
    sign_in,
    start_gateway,
)

pytestmark = pytest.mark.browser
TIMEOUT_MS = 20_000
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
# The browser logs these answers as failed loads; each is the API asking for something, by design.
ASKED_AGAIN = "status of 403 (Forbidden)"  # reauth_required: the password again
CODE_PLEASE = "status of 401 (Unauthorized)"  # totp_required: and the code
FETCH_JS = """async ([method, path, body]) => {
    const r = await fetch(path, {method, body: body === null ? undefined : JSON.stringify(body),
        headers: {"Content-Type": "application/json", Accept: "application/json"}});
    return [r.status, await r.json()];
}"""


@pytest.fixture
async def small_simulator(simulator_factory: Any) -> AsyncIterator[Simulator]:
    async with simulator_factory(cameras=1, doorbells=1) as running:
        yield running


def an_hour_later(data_dir: Path) -> None:
    """As if an hour had passed since everyone signed in: each session's proof of password is
    old (the next sensitive change asks again) and the authenticator codes used are long past."""
    confirmed = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 3600))
    step = int(time.time() // 30) - 120
    conn = sqlite3.connect(data_dir / "doorstep.db")
    try:
        conn.execute("UPDATE sessions SET confirmed_at = ?", (confirmed,))
        conn.execute("UPDATE users SET totp_last_step = ?", (step,))
        conn.commit()
    finally:
        conn.close()


async def confirm_it_is_me(watched: Watched, gateway: Gateway) -> None:
    """Answer the "confirm it is you" dialog: the password, then the authenticator code."""
    assert gateway.otp is not None
    page = watched.page
    dialog = page.locator("dialog#reauth")
    await dialog.wait_for(timeout=TIMEOUT_MS)
    await page.fill("input[name=confirm-password]", OWNER_PASSWORD)
    await dialog.locator("button[type=submit]").click()
    await dialog.locator("input[name=confirm-code]").wait_for()
    await page.fill("input[name=confirm-code]", gateway.otp.now())
    await dialog.locator("button[type=submit]").click()
    await dialog.wait_for(state="detached", timeout=TIMEOUT_MS)
    expected = [p for p in watched.problems if ASKED_AGAIN in p or CODE_PLEASE in p]
    assert expected, watched.problems  # it was the server that asked
    watched.problems[:] = [p for p in watched.problems if p not in expected]


async def call(page: Page, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The API as the signed-in page (its cookie)."""
    status, answer = await page.evaluate(FETCH_JS, [method, path, body])
    return int(status), answer


async def owner_page(chromium: Browser, gateway: Gateway, **context: Any) -> Watched:  # noqa: F811
    owner = await open_page(await chromium.new_context(**context))
    await sign_in(owner, gateway.url, "alice", OWNER_PASSWORD, gateway.otp)
    return owner


async def test_a_resident_turns_notifications_on_and_the_owner_switches_push_off(  # noqa: PLR0915
    chromium: Browser,  # noqa: F811
    small_simulator: Simulator,
    aiohttp_server: Any,
    aiohttp_client: Any,
    tmp_path: Path,
) -> None:
    push = PushReceiver()
    receiver = await aiohttp_server(push.app, host="127.0.0.1")
    origin = f"http://127.0.0.1:{receiver.port}"
    gateway = await start_gateway(
        small_simulator, aiohttp_server, tmp_path, {"push": {"allowed_endpoint_hosts": [origin]}}
    )
    await set_up_owner(gateway, aiohttp_client)
    url = gateway.url

    context = await chromium.new_context()
    await context.grant_permissions(["notifications"], origin=url.rstrip("/"))
    stub = {"endpoint": f"{origin}/push/phone", "p256dh": push.p256dh, "auth": b64u(push.auth)}
    await context.add_init_script(script=STUB_JS.replace("STUB_CONFIG", json.dumps(stub)))
    rita = await open_page(context)
    page = rita.page
    await sign_in(rita, url, "rita", RESIDENT_PASSWORD)
    tablet = {"endpoint": f"{origin}/push/tablet", "label": "Old tablet",
              "keys": {"p256dh": push.p256dh, "auth": b64u(push.auth)}}  # fmt: skip
    status, _ = await call(page, "POST", "/api/push/subscriptions", tablet)
    assert status == 201

    # Off on this device: what it would do, what leaves the house, her other device.
    await page.goto(url + "#/notifications")
    device = page.locator("#this-device[data-push=off]")
    await device.wait_for(timeout=TIMEOUT_MS)
    assert "the one thing Doorstep sends outside your home network" in await device.inner_text()
    others = page.locator("#other-devices .push-other")
    assert await others.count() == 1
    assert "Old tablet" in await others.inner_text()
    assert await page.locator('nav.subnav a[href="#/webhooks"]').count() == 0  # owner's pages
    await look_at(rita, "notifications-off", "#push-on")

    # On, with a name, motion at the garden and quiet hours.
    await page.fill("input[name=device-label]", "Rita's phone")
    garden = page.locator('.push-camera[data-camera="garden"]')
    await garden.locator("input[name=push-motion]").check()
    await page.locator("input[name=quiet-on]").check()
    await page.fill("input[name=quiet-start]", "23:00")
    await page.fill("input[name=quiet-end]", "06:30")
    await page.click("#push-on")
    await page.locator("#this-device[data-push=on]").wait_for(timeout=TIMEOUT_MS)
    _, listed = await call(page, "GET", "/api/push/subscriptions")
    [phone] = [s for s in listed["subscriptions"] if s["label"] == "Rita's phone"]
    assert phone["prefs"] == {
        "cameras": {"garden": {"ring": True, "motion": True, "person": False}},
        "default": {"ring": True, "motion": False, "person": False},
        "quiet_hours": {"start": "23:00", "end": "06:30"},
    }
    await look_at(rita, "notifications-on", "#push-test")

    # A test goes through the push service (the receiver decrypts it) and the page says so.
    await page.click("#push-test")
    message = json.loads(await asyncio.wait_for(push.messages.get(), timeout=20))
    assert message["title"] == "Doorstep"
    await page.get_by_text("Sent: it should show on the device").wait_for(timeout=TIMEOUT_MS)

    # No ring from the front door on this phone: saved as a change of this device.
    front = page.locator('.push-camera[data-camera="front"]')
    await front.locator("input[name=push-ring]").uncheck()
    await page.click("#this-device button[type=submit]")
    await page.locator("#this-device .done").get_by_text("Saved.").wait_for()
    _, listed = await call(page, "GET", "/api/push/subscriptions")
    [phone] = [s for s in listed["subscriptions"] if s["label"] == "Rita's phone"]
    assert phone["prefs"]["cameras"]["front"] == {"ring": False, "motion": False, "person": False}

    # The old tablet removed, after "are you sure?".
    await others.locator("button:has-text('Remove')").click()
    await page.locator("dialog#confirm button:has-text('Remove')").click()
    await others.first.wait_for(state="detached", timeout=TIMEOUT_MS)
    _, listed = await call(page, "GET", "/api/push/subscriptions")
    assert [s["label"] for s in listed["subscriptions"]] == ["Rita's phone"]
    await page.goto(url + "#/webhooks")
    await page.get_by_text("Only the owner can open this page.").wait_for()

    # The owner turns push off for the household, confirming it is her.
    owner = await owner_page(chromium, gateway)
    an_hour_later(tmp_path / "data")
    await owner.page.goto(url + "#/notifications")
    switch = owner.page.locator("#push-household input[name=push-enabled]")
    await switch.wait_for(timeout=TIMEOUT_MS)
    assert await switch.is_checked()
    await look_at(owner, "notifications-owner", "#push-household input[name=push-enabled]")
    await switch.uncheck()
    await confirm_it_is_me(owner, gateway)
    await owner.page.wait_for_function(
        "() => !document.querySelector('#push-household input[name=push-enabled]').checked"
    )
    # The switch turns as it is clicked; the save lands a moment later (seen racing once).
    saved = time.monotonic() + TIMEOUT_MS / 1000
    while gateway.app[PUSH].owner_enabled is not False and time.monotonic() < saved:
        await asyncio.sleep(0.05)
    assert gateway.app[PUSH].owner_enabled is False
    assert owner.problems == []

    # Her page says so in words; her device stays listed until she turns it off herself.
    await page.goto(url + "#/notifications")
    state = page.locator("#this-device .push-state[data-state=off]")
    await state.wait_for(timeout=TIMEOUT_MS)
    assert "turned push notifications off" in await state.inner_text()
    await look_at(rita, "notifications-push-off", "#push-off")
    await page.click("#push-off")
    await page.locator("#this-device #push-off").wait_for(state="detached", timeout=TIMEOUT_MS)
    _, listed = await call(page, "GET", "/api/push/subscriptions")
    assert listed["subscriptions"] == []
    assert await page.evaluate("window.pushStub.subscription") is None
    assert rita.problems == []

    # On an iPhone, Safari pushes only to the app added to the Home Screen: the page says so.
    iphone = await open_page(
        await chromium.new_context(storage_state=await context.storage_state(), user_agent=IPHONE)
    )
    await iphone.page.goto(url + "#/notifications")
    hint = iphone.page.locator("#this-device .push-state[data-state=needs-install]")
    await hint.wait_for(timeout=TIMEOUT_MS)
    assert "Add to Home Screen" in await hint.inner_text()
    assert await iphone.page.locator("#push-on").count() == 0
    await look_at(iphone, "notifications-iphone", "#this-device .push-state")


class HookReceiver:
    """A webhook receiver on 127.0.0.1 keeping each request's headers and raw body."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[tuple[str, dict[str, str], bytes]] = asyncio.Queue()
        self.app = web.Application()
        self.app.router.add_post("/hook/{name}", self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.put_nowait((request.match_info["name"], dict(request.headers), body))
        return web.Response(status=204)

    async def next(self) -> tuple[str, dict[str, str], bytes]:
        return await asyncio.wait_for(self.requests.get(), timeout=20)


def signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    return verify(
        secret, headers["X-Doorstep-Timestamp"], headers["X-Doorstep-Signature"], body, time.time()
    )


TEMPLATE = '{"title": "${camera_name}", "message": "${text}", "kind": "${kind}"}'


async def test_the_owner_sends_events_to_another_tool_with_a_secret_shown_once(  # noqa: PLR0915
    chromium: Browser,  # noqa: F811
    small_simulator: Simulator,
    aiohttp_server: Any,
    aiohttp_client: Any,
    tmp_path: Path,
) -> None:
    hooks = HookReceiver()
    receiver = await aiohttp_server(hooks.app, host="127.0.0.1")
    gateway = await start_gateway(small_simulator, aiohttp_server, tmp_path)
    await set_up_owner(gateway, aiohttp_client)
    url = gateway.url
    owner = await owner_page(chromium, gateway)
    await owner.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = owner.page
    an_hour_later(tmp_path / "data")

    await page.goto(url + "#/webhooks")
    await page.locator("#no-webhooks").wait_for(timeout=TIMEOUT_MS)
    await page.click("#add-webhook")
    await page.fill("input[name=webhook-name]", "Node-RED")
    await page.fill(
        "input[name=webhook-url]", f"http://127.0.0.1:{receiver.port}/hook/one?token=abc"
    )
    assert await page.locator("input[name=webhook-kind][value=doorbell]").is_checked()
    await page.check("input[name=webhook-kind][value=motion]")
    await page.check("input[name=webhook-camera][value=front]")
    await page.check("input[name=webhook-custom]")
    await page.fill("textarea[name=webhook-template]", TEMPLATE)
    await page.click("#new-webhook .template-fields summary")  # the documented fields (API's)
    assert "${camera_name}" in await page.locator("#new-webhook .template-fields").inner_text()
    await look_at(owner, "webhooks-new", "textarea[name=webhook-template]")

    # Adding one asks for the password again; then the secret, once, with a copy button.
    await page.click("#new-webhook button[type=submit]")
    await confirm_it_is_me(owner, gateway)
    shown = page.locator("#webhook-secret")
    await shown.wait_for(timeout=TIMEOUT_MS)
    secret = await shown.inner_text()
    assert len(secret) >= 32
    await page.click("#copy-secret")
    await page.locator("#secret-once").get_by_text("Copied.").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    await look_at(owner, "webhooks-secret", "#webhook-secret")
    await page.click("#secret-done")
    assert await shown.count() == 0
    card = page.locator('.webhook[data-webhook="Node-RED"]')
    assert await card.locator(".webhook-host").inner_text() == f"127.0.0.1:{receiver.port}"
    facts = await card.locator("dl").inner_text()
    assert "Doorbell, Motion (when they start)" in facts
    assert "Front door" in facts
    assert "token=abc" not in facts  # the URL's query may hold a token: not shown on the card

    # A test delivery: signed with that secret, the result on the card.
    await card.locator(".webhook-test").click()
    name, headers, body = await hooks.next()
    assert (name, headers["X-Doorstep-Event"]) == ("one", "test")
    assert signed(secret, headers, body)
    await card.get_by_text("Test delivered").first.wait_for(timeout=TIMEOUT_MS)

    # A doorbell press goes out through the template.
    small_simulator.devices["doorbell-1"].press()
    name, headers, body = await hooks.next()
    sent = json.loads(body)
    assert (sent["title"], sent["kind"]) == ("Front door", "doorbell")
    assert signed(secret, headers, body)
    await page.reload()
    await card.locator(".webhook-last").get_by_text("Delivered").wait_for(timeout=TIMEOUT_MS)
    await look_at(owner, "webhooks", '.webhook[data-webhook="Node-RED"] .webhook-last')

    # A new URL asks for the password again; kinds change with it.
    an_hour_later(tmp_path / "data")
    await card.locator("button:has-text('Edit')").click()
    await card.locator("input[name=webhook-url]").fill(f"http://127.0.0.1:{receiver.port}/hook/two")
    await card.locator("input[name=webhook-kind][value=motion]").uncheck()
    await look_at(owner, "webhooks-edit", ".webhook-edit input[name=webhook-url]")
    await card.locator("button:has-text('Save changes')").click()
    await confirm_it_is_me(owner, gateway)
    await card.locator(".done").get_by_text("Saved.").wait_for(timeout=TIMEOUT_MS)
    _, listed = await call(page, "GET", "/api/automations/webhooks")
    [rule] = listed["webhooks"]
    assert rule["url"].endswith("/hook/two")
    assert rule["kinds"] == ["doorbell"]

    # Off, then a new secret (shown once again): the next test is signed with it.
    await card.locator("button:has-text('Turn off')").click()
    await card.locator(".pill").get_by_text("Off", exact=True).wait_for(timeout=TIMEOUT_MS)
    await card.locator("button:has-text('Replace secret')").click()
    await page.locator("dialog#confirm button:has-text('Replace secret')").click()
    await shown.wait_for(timeout=TIMEOUT_MS)
    fresh = await shown.inner_text()
    assert fresh != secret
    await page.click("#secret-done")
    await card.locator(".webhook-test").click()
    name, headers, body = await hooks.next()
    assert name == "two"
    assert signed(fresh, headers, body)
    assert not signed(secret, headers, body)

    # Deleted after "are you sure?".
    await card.locator(".webhook-delete").click()
    await page.locator("dialog#confirm button:has-text('Delete')").click()
    await page.locator("#no-webhooks").wait_for(timeout=TIMEOUT_MS)
    _, listed = await call(page, "GET", "/api/automations/webhooks")
    assert listed["webhooks"] == []
    assert owner.problems == []


def event_days(gateway: Gateway) -> int:
    """The event retention in effect in the running gateway."""
    retention = gateway.app[SETTINGS].current("retention")
    assert isinstance(retention, RetentionConfig)
    return retention.event_days


async def test_the_owner_changes_gateway_settings_and_reverts_one(  # noqa: PLR0915
    chromium: Browser,  # noqa: F811
    small_simulator: Simulator,
    aiohttp_server: Any,
    aiohttp_client: Any,
    tmp_path: Path,
) -> None:
    gateway = await start_gateway(small_simulator, aiohttp_server, tmp_path)
    await set_up_owner(gateway, aiohttp_client)
    owner = await owner_page(chromium, gateway)
    page = owner.page
    an_hour_later(tmp_path / "data")
    await page.goto(gateway.url + "#/gateway")
    retention = page.locator("#section-retention")
    await retention.wait_for(timeout=TIMEOUT_MS)
    assert "Applies at once" in await retention.inner_text()
    assert "Applies after a restart" in await page.locator("#section-server").inner_text()
    assert await page.locator("#restart-needed").count() == 0
    await look_at(owner, "gateway-settings", "#section-retention input")

    # A change that applies now, after the password again: in effect and marked "set here".
    days = retention.locator('input[name="retention.event_days"]')
    assert await days.input_value() == "30"
    await days.fill("7")
    await retention.locator("button[type=submit]").click()
    await confirm_it_is_me(owner, gateway)
    await retention.get_by_text("Saved: in effect now.").wait_for(timeout=TIMEOUT_MS)
    await retention.locator(".set-here").wait_for()
    assert event_days(gateway) == 7

    # One that applies at the next start: said on the section and at the top of the page.
    server = page.locator("#section-server")
    await server.locator('textarea[name="server.hostnames"]').fill("doorstep.home.arpa")
    await server.locator("button[type=submit]").click()
    await server.get_by_text("Saved: applies when Doorstep restarts.").wait_for(timeout=TIMEOUT_MS)
    notice = page.locator("#restart-needed")
    await notice.wait_for()
    assert "HTTPS and host names" in await notice.inner_text()
    assert await server.locator(".restart-pending").count() == 1

    # The gateway's refusal in words; then a secret is stored, never shown back.
    mqtt = page.locator("#section-mqtt")
    await mqtt.locator('input[name="mqtt.host"]').fill("broker.lan")
    await mqtt.locator('input[name="mqtt.password"]').fill("broker-secret-4711")
    await mqtt.locator("button[type=submit]").click()
    refusal = mqtt.locator(".error")
    await refusal.wait_for(timeout=TIMEOUT_MS)
    assert "a password needs a username" in await refusal.inner_text()
    unprocessable = "status of 422 (Unprocessable Entity)"
    assert [p for p in owner.problems if unprocessable in p], owner.problems
    owner.problems[:] = [p for p in owner.problems if unprocessable not in p]
    await mqtt.locator('input[name="mqtt.username"]').fill("doorstep")
    await mqtt.locator("button[type=submit]").click()
    await mqtt.get_by_text("Saved: applies when Doorstep restarts.").wait_for(timeout=TIMEOUT_MS)
    stored = mqtt.locator('input[name="mqtt.password"]')
    assert await stored.get_attribute("placeholder") == "Stored: type to replace"
    assert await stored.input_value() == ""
    assert "broker-secret-4711" not in await page.content()

    # A STUN server added to a list of objects.
    live = page.locator("#section-live")
    await live.locator("button:has-text('Add')").click()
    await live.locator('textarea[name="live.ice_servers[0].urls"]').fill(
        "stun:stun.example.org:3478"
    )
    await live.locator("button[type=submit]").click()
    await live.get_by_text("Saved: in effect now.").wait_for(timeout=TIMEOUT_MS)
    _, answer = await call(page, "GET", "/api/settings")
    sections = {s["name"]: s for s in answer["sections"]}
    assert sections["live"]["value"]["ice_servers"][0]["urls"] == ["stun:stun.example.org:3478"]
    assert sections["server"]["value"]["hostnames"] == ["doorstep.home.arpa"]
    assert sections["mqtt"]["value"]["password_set"] is True
    await look_at(owner, "gateway-settings-changed", "#restart-needed")

    # Revert: back to the file's value, no longer "set here".
    await retention.locator(".revert[data-field=event_days]").click()
    await retention.get_by_text("back to config.yaml's value").wait_for(timeout=TIMEOUT_MS)
    assert await retention.locator(".set-here").count() == 0
    assert await days.input_value() == "30"
    assert event_days(gateway) == 30
    assert owner.problems == []
