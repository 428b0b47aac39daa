"""The installable app in headless Chromium against a real gateway: the service worker controls
the page, the app shell opens offline while the API is never answered from a cache, and pushes
become notifications.

Headless Chromium has no push service: a real `pushManager.subscribe()` is refused in Playwright's
incognito contexts and hangs trying to reach Google's FCM in a persistent one. So the tests stub
`PushManager.prototype.subscribe`/`getSubscription` in the page (recording the key they are
given), with an endpoint on a push receiver the test runs on 127.0.0.1, and hand the push
message to the service worker through the DevTools protocol (`ServiceWorker.deliverPushMessage`)
as a push service would: waiting for the worker's push event to finish (`BackgroundService`),
and sending again when Chromium dropped the message unseen. A trusted `notificationclick` cannot
be made headless either (no CDP command; a script-made event may not open or focus windows), so
the click's routing is driven by calling the worker's own functions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import http_ece
import pyotp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.async_api import Browser, BrowserContext, CDPSession, Page, async_playwright

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.notify.payload import camera_notification
from doorstep.gateway.notify.prefs import PushKind
from doorstep.gateway.web.keys import ACCOUNTS

from .test_webui import CHROMIUM, QUIET_FLAGS

pytestmark = pytest.mark.browser
ServerFactory = Callable[..., Awaitable[TestServer]]
OWNER_PASSWORD = "correct horse battery"
PREFS = {
    "cameras": {},
    "default": {"ring": True, "motion": False, "person": True},
    "quiet_hours": None,
}
NOTIFICATIONS_JS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({
        title: n.title, body: n.body, tag: n.tag, data: n.data, icon: n.icon, badge: n.badge,
        image: n.image, requireInteraction: n.requireInteraction, renotify: n.renotify,
        timestamp: n.timestamp,
    }));
}"""
CLOSE_NOTIFICATIONS_JS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    for (const n of await registration.getNotifications()) n.close();
}"""
REGISTER_JS = """async () => {
    const pwa = await import("/static/pwa.js");
    const registration = await pwa.registerServiceWorker();
    await navigator.serviceWorker.ready;
    return registration && registration.scope;
}"""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushReceiver:
    """A push service stand-in on 127.0.0.1 holding the browser's private half of one
    subscription: it decrypts what the gateway sends (RFC 8291 aes128gcm) and keeps it. The
    gateway's own tests check VAPID and the push-service answers; this one carries the message
    on to the browser."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64u(
            self.private_key.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
        )
        self.messages: asyncio.Queue[bytes] = asyncio.Queue()
        self.app = web.Application()
        self.app.router.add_post("/push/{sid}", self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        if request.headers.get("Content-Encoding") != "aes128gcm" or "TTL" not in request.headers:
            return web.Response(status=400)
        plaintext = http_ece.decrypt(
            await request.read(),
            private_key=self.private_key,
            auth_secret=self.auth,
            version="aes128gcm",
        )
        self.messages.put_nowait(plaintext)
        return web.Response(status=201, headers={"Location": "/m/1"})


class PushChannel:
    """A push service's part, through Chromium's DevTools protocol: the worker's registrations
    (ServiceWorker domain), handing it push data, and what became of each push event
    (BackgroundService domain, which logs the events a push started and finished)."""

    def __init__(self, cdp: CDPSession) -> None:
        self.cdp = cdp
        self.registrations: dict[str, str] = {}
        self.pushes: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()
        cdp.on("ServiceWorker.workerRegistrationUpdated", self._updated)
        cdp.on("BackgroundService.backgroundServiceEventReceived", self._logged)

    def _updated(self, event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["isDeleted"]:
                self.registrations.pop(registration["scopeURL"], None)
            else:
                self.registrations[registration["scopeURL"]] = registration["registrationId"]

    def _logged(self, event: dict[str, Any]) -> None:
        logged = event["backgroundServiceEvent"]
        details = {item["key"]: item["value"] for item in logged["eventMetadata"]}
        self.pushes.put_nowait((logged["eventName"], details))

    async def start(self) -> None:
        await self.cdp.send("ServiceWorker.enable")
        service = {"service": "pushMessaging"}
        await self.cdp.send("BackgroundService.startObserving", service)
        await self.cdp.send("BackgroundService.setRecording", {**service, "shouldRecord": True})

    async def deliver(self, origin: str, data: str) -> None:
        """Hand `data` to the worker and wait until its push event has finished well.

        Chromium drops a push it cannot dispatch without a word (the DevTools command answers
        before the worker is even looked up): a push service sends a message again until it is
        taken, and so does this, when the worker has not started its push event in 5 s."""
        for _ in range(100):
            if origin + "/" in self.registrations:
                break
            await asyncio.sleep(0.1)
        message = {"origin": origin, "registrationId": self.registrations[origin + "/"]}
        for _ in range(3):
            await self.cdp.send("ServiceWorker.deliverPushMessage", {**message, "data": data})
            try:
                name, details = await asyncio.wait_for(self.pushes.get(), 5)
            except TimeoutError:
                continue
            assert (name, details.get("Payload")) == ("Push event dispatched", data)
            name, details = await asyncio.wait_for(self.pushes.get(), 30)
            assert (name, details) == ("Push event completed", {"Status": "Success"})
            return
        raise AssertionError("the service worker ran no push event for three deliveries")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def receiver(aiohttp_server: ServerFactory) -> tuple[PushReceiver, str]:
    push = PushReceiver()
    server = await aiohttp_server(push.app, host="127.0.0.1")
    return push, f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def gateway(
    aiohttp_server: ServerFactory, receiver: tuple[PushReceiver, str], tmp_path: Path
) -> tuple[web.Application, str]:
    """A whole gateway (no cameras) whose push may go to the loopback receiver."""
    _, receiver_origin = receiver
    config = Config.model_validate({
        "storage": {"data_dir": tmp_path / "data"},
        "push": {"allowed_endpoint_hosts": [receiver_origin]},
    })  # fmt: skip
    app = await asyncio.to_thread(build_app, config)
    server = await aiohttp_server(app, host="127.0.0.1")
    return app, f"http://127.0.0.1:{server.port}"


class Problems(list[str]):
    """Console errors and page errors of a page, bar the ones a test expects."""

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.append(f"pageerror: {error}"))
        page.on("console", lambda m: self.append(m.text) if m.type == "error" else None)


async def open_app(context: BrowserContext, origin: str) -> tuple[Page, Problems]:
    page = await context.new_page()
    problems = Problems()
    problems.watch(page)
    await page.goto(origin + "/")
    assert await page.evaluate(REGISTER_JS) == origin + "/"
    return page, problems


async def notifications(page: Page, count: int) -> list[dict[str, Any]]:
    """The shown notifications, once there are `count` of them (showing one is asynchronous)."""
    shown: list[dict[str, Any]] = []
    for _ in range(100):
        shown = await page.evaluate(NOTIFICATIONS_JS)
        if len(shown) >= count:
            break
        await asyncio.sleep(0.1)
    assert len(shown) == count, shown
    return shown


async def test_the_worker_controls_the_page_and_the_shell_opens_offline_without_cached_api(
    browser: Browser, gateway: tuple[web.Application, str]
) -> None:
    _, origin = gateway
    context = await browser.new_context()
    page, problems = await open_app(context, origin)

    await page.reload()
    controller = await page.evaluate("navigator.serviceWorker.controller?.scriptURL")
    assert controller == origin + "/sw.js"
    cdp = await context.new_cdp_session(page)
    manifest = await cdp.send("Page.getAppManifest")
    assert manifest["url"] == origin + "/manifest.webmanifest"
    assert manifest["errors"] == []
    installable = await cdp.send("Page.getInstallabilityErrors")
    errors = {error["errorId"] for error in installable["installabilityErrors"]}
    # Chromium would offer "Install app"; the only objection is Playwright's incognito profile.
    assert errors == {"in-incognito"}
    assert await page.evaluate("fetch('/api/health').then((r) => r.status)") == 200
    cached = await page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys())
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
        return urls;
    }""")
    assert origin + "/" in cached
    assert origin + "/static/pwa.js" in cached
    assert not [url for url in cached if "/api/" in url]

    await context.set_offline(True)
    shell: dict[str, tuple[int, bool]] = {}
    page.on(
        "response",
        lambda r: (
            shell.__setitem__(r.url, (r.status, r.from_service_worker))
            if r.url.startswith(origin) and "/api/" not in r.url
            else None
        ),
    )
    problems.clear()
    await page.reload()
    assert await page.title() == "Doorstep"
    assert shell[origin + "/"] == (200, True)
    assert shell[origin + "/static/app.js"] == (200, True)
    assert all(answer == (200, True) for answer in shell.values()), shell
    assert await page.evaluate("import('/static/pwa.js').then((m) => typeof m.enablePush)") == (
        "function"
    )
    failed = await page.evaluate(
        "fetch('/api/health').then((r) => `answered ${r.status}`, (e) => e.name)"
    )
    assert failed == "TypeError"  # the network's failure, not yesterday's answer from a cache
    # Offline, the only errors are the API requests that could not go out.
    assert all("ERR_INTERNET_DISCONNECTED" in p or "Failed to fetch" in p for p in problems), (
        problems
    )

    await context.set_offline(False)
    await context.close()


async def test_a_push_becomes_a_notification_and_bad_data_a_generic_one(
    browser: Browser, gateway: tuple[web.Application, str]
) -> None:
    _, origin = gateway
    context = await browser.new_context()
    await context.grant_permissions(["notifications"], origin=origin)
    page = await context.new_page()
    channel = PushChannel(await context.new_cdp_session(page))
    await channel.start()
    problems = Problems()
    problems.watch(page)
    await page.goto(origin + "/")
    assert await page.evaluate(REGISTER_JS) == origin + "/"

    at = datetime(2026, 12, 1, 16, 30, 5, tzinfo=UTC)
    ring = camera_notification(PushKind.RING, "front", "Front door", at)
    await channel.deliver(origin, ring.body.decode())
    [shown] = await notifications(page, 1)
    assert shown["title"] == "Front door"
    assert shown["body"] == "Someone rang the doorbell"
    assert shown["data"]["url"] == "/#/live/front"
    assert shown["tag"] == "ring-front"
    assert shown["renotify"] is True
    assert shown["requireInteraction"] is True
    assert shown["timestamp"] == int(at.timestamp() * 1000)
    assert shown["icon"] == origin + "/static/icon-192.png"
    assert shown["badge"] == origin + "/static/badge-96.png"
    assert shown["image"] == origin + "/api/cameras/front/snapshot"

    motion = camera_notification(PushKind.MOTION, "garden", "Garden", at)
    await page.evaluate(CLOSE_NOTIFICATIONS_JS)
    await channel.deliver(origin, motion.body.decode())
    [shown] = await notifications(page, 1)
    assert shown["body"] == "Motion at Garden"
    assert shown["requireInteraction"] is False
    assert shown["renotify"] is False

    for bad in ("{not json", "[1, 2]", json.dumps({"title": 7, "url": "https://evil.example/"})):
        await page.evaluate(CLOSE_NOTIFICATIONS_JS)
        await channel.deliver(origin, bad)
        [shown] = await notifications(page, 1)
        assert shown["title"] == "Doorstep", bad
        assert shown["body"] == "Something happened at your door.", bad
        assert shown["data"]["url"] == "/#/cameras", bad  # never a page off this gateway
    assert problems == []
    await context.close()


async def test_a_notification_click_moves_an_open_window_to_its_page(
    browser: Browser, gateway: tuple[web.Application, str]
) -> None:
    """The worker's click handler is `openOrFocus(clickTarget(data))`: both are driven here,
    since a trusted click cannot be made headless (see the module docstring)."""
    _, origin = gateway
    context = await browser.new_context()
    page, problems = await open_app(context, origin)
    await page.reload()  # now controlled
    worker = context.service_workers[0]
    assert worker.url == origin + "/sw.js"
    targets = await worker.evaluate("""() => [
        clickTarget({url: "/#/live/front"}), clickTarget({url: "https://evil.example/#/x"}),
        clickTarget({url: "/api/session"}), clickTarget(null), clickTarget({url: 5}),
    ]""")
    assert targets == ["/#/live/front", "/#/cameras", "/#/cameras", "/#/cameras", "/#/cameras"]

    await page.evaluate("""() => {
        window.seenHashes = [];
        addEventListener("hashchange", () => window.seenHashes.push(location.hash));
        window.loads = performance.getEntriesByType("navigation").length;
    }""")
    await worker.evaluate("openOrFocus(clickTarget({url: '/#/live/front'}))")
    await page.wait_for_function("window.seenHashes.includes('#/live/front')")
    assert await page.evaluate("window.loads") == 1  # the same document: no reload
    assert problems == []
    await context.close()


async def test_enable_push_subscribes_with_the_gateway_key_and_the_gateway_pushes_to_it(
    browser: Browser,
    gateway: tuple[web.Application, str],
    receiver: tuple[PushReceiver, str],
) -> None:
    app, origin = gateway
    push, receiver_origin = receiver
    endpoint = f"{receiver_origin}/push/{b64u(os.urandom(9))}"
    context = await browser.new_context()
    await context.grant_permissions(["notifications"], origin=origin)
    stub = {"endpoint": endpoint, "p256dh": push.p256dh, "auth": b64u(push.auth)}
    await context.add_init_script(script=STUB_JS.replace("STUB_CONFIG", json.dumps(stub)))
    page = await context.new_page()
    channel = PushChannel(await context.new_cdp_session(page))
    await channel.start()
    problems = Problems()
    problems.watch(page)
    await page.goto(origin + "/")
    await sign_in_as_owner(page, app)
    assert await page.evaluate(REGISTER_JS) == origin + "/"

    record = await page.evaluate(
        """async (prefs) => (await import("/static/pwa.js"))
            .enablePush({label: "Kitchen phone", prefs})""",
        PREFS,
    )
    assert record["label"] == "Kitchen phone"
    assert record["prefs"]["default"] == PREFS["default"]
    key = await page.evaluate("fetch('/api/push/key').then((r) => r.json())")
    given = await page.evaluate("window.pushStub.keys")
    assert [bytes(k) for k in given] == [unb64u(key["public_key"])]  # subscribed with its key
    listed = await page.evaluate("fetch('/api/push/subscriptions').then((r) => r.json())")
    assert [s["id"] for s in listed["subscriptions"]] == [record["id"]]
    current = await page.evaluate(
        "import('/static/pwa.js').then((m) => m.currentSubscription()).then((s) => s && s.id)"
    )
    assert current == record["id"]

    # The gateway's test message goes through the receiver (decrypted there) to the browser.
    status = await page.evaluate(
        """(id) => fetch(`/api/push/subscriptions/${id}/test`, {method: "POST",
            headers: {"Content-Type": "application/json"}, body: "{}"}).then((r) => r.status)""",
        record["id"],
    )
    assert 200 <= status < 300
    plaintext = await asyncio.wait_for(push.messages.get(), timeout=20)
    await channel.deliver(origin, plaintext.decode())
    [shown] = await notifications(page, 1)
    assert shown["title"] == "Doorstep"
    assert shown["data"]["url"] == "/#/notifications"

    await page.evaluate("import('/static/pwa.js').then((m) => m.disablePush())")
    listed = await page.evaluate("fetch('/api/push/subscriptions').then((r) => r.json())")
    assert listed["subscriptions"] == []
    assert await page.evaluate("window.pushStub.subscription") is None  # unsubscribed too
    assert (
        await page.evaluate("import('/static/pwa.js').then((m) => m.currentSubscription())") is None
    )
    assert problems == []
    await context.close()


async def test_a_browser_that_refuses_to_subscribe_gets_words_that_say_why(
    browser: Browser, gateway: tuple[web.Application, str]
) -> None:
    """Chromium refuses a real subscription in a private window with "permission denied", even
    with the permission granted: the page must not pass that on as the reason."""
    app, origin = gateway
    context = await browser.new_context()  # Playwright's contexts are incognito: no push
    await context.grant_permissions(["notifications"], origin=origin)
    page, _ = await open_app(context, origin)
    await sign_in_as_owner(page, app)
    message = await page.evaluate(
        """async (prefs) => {
            try { await (await import("/static/pwa.js")).enablePush({label: "Tab", prefs}); }
            catch (error) { return error.message; }
            return null;
        }""",
        PREFS,
    )
    assert message is not None
    assert message.startswith("This browser would not set up notifications.")
    assert "Private and incognito windows" in message
    assert "The browser said:" in message  # the browser's own words stay, for whoever helps
    listed = await page.evaluate("fetch('/api/push/subscriptions').then((r) => r.json())")
    assert listed["subscriptions"] == []
    await context.close()


STUB_JS = """(() => {
    const config = STUB_CONFIG;
    const stub = window.pushStub = { keys: [], subscription: null };
    const make = (key) => ({
        endpoint: config.endpoint, expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: key.buffer },
        toJSON: () => ({ endpoint: config.endpoint, expirationTime: null,
                         keys: { p256dh: config.p256dh, auth: config.auth } }),
        unsubscribe: async () => { stub.subscription = null; return true; },
    });
    PushManager.prototype.getSubscription = async function () { return stub.subscription; };
    PushManager.prototype.subscribe = async function (options) {
        const key = new Uint8Array(options.applicationServerKey);
        stub.keys.push(Array.from(key));
        stub.subscription = make(key);
        return stub.subscription;
    };
})();"""


async def sign_in_as_owner(page: Page, app: web.Application) -> None:
    """First-run setup and the owner's second factor, through the page (its cookie jar)."""
    send = """async ([path, body]) => {
        const r = await fetch(path, {method: "POST", body: JSON.stringify(body),
            headers: {"Content-Type": "application/json", Accept: "application/json"}});
        return [r.status, await r.json()];
    }"""
    token = app[ACCOUNTS].setup_token
    body = {"token": token, "username": "alice", "password": OWNER_PASSWORD}
    status, _ = await page.evaluate(send, ["/api/setup", body])
    assert status == 201
    status, started = await page.evaluate(send, ["/api/me/totp", {}])
    assert status == 200
    code = pyotp.TOTP(started["secret"]).now()
    status, _ = await page.evaluate(send, ["/api/me/totp/confirm", {"code": code}])
    assert status == 200
