"""Press to phone, measured: from a press of the simulated doorbell to the ring banner in an open
page, to the Web Push message decrypted at the push service, and to the MQTT message at a
subscriber of a real Mosquitto; and the push notification's URL opens the live view.

One simulated doorbell (`doorstep simulate --cameras 0 --doorbells 1`, its own process, the
simulator's default 3 s visitor hold, unchanged) and one gateway (`build_app`, served on
127.0.0.1 by `web.AppRunner`) in this process, configured with Web Push to the loopback push
service of tests/peers/push_service.py (a real RFC 8030 receiver that checks the VAPID token and
decrypts the aes128gcm body) and MQTT to a throw-away Mosquitto from tests/peers/mosquitto.py
(Debian's `/usr/sbin/mosquitto`; installed with apt when missing and run as root). The peers are
imported from tests/ (through bench/notify_peers.py) because they are the real ones the push and
MQTT tests use; the resident's push subscription is made with tests/notify/rig.py's helpers, as
the page makes it. Headless Chromium (Debian's, via Playwright) is the resident's phone, signed
in as resident `rita` (granted the doorbell) and left on the cameras page.

Each of `--presses` presses (default 50) is timed on all three paths at once, from just before
the bench sends `POST /devices/doorbell-1/press` to the simulator's control API (so the
control-API hop and the ONVIF PullPoint answer are included):

- banner: to the animation frame that paints the banner's Answer (`#ring:not([hidden])
  #answer`), stamped in the page by a MutationObserver + requestAnimationFrame with `Date.now()`
  and compared with the bench's `time.time()` at the press (the same system clock).
- push: to the moment the receiver decrypted the message (`time.perf_counter()`, this process).
- mqtt: to the moment the subscriber (aiomqtt, QoS 1, on the doorbell `event` entity's topic
  `doorstep/front/doorbell/event`) received it (`time.perf_counter()`, this process).

The push service and the subscriber share this process's event loop with the gateway (and the
Playwright driver), so their figures include waiting for it, as a loaded gateway would.

p50/p99/max per path (p99 interpolated between the two largest of 50). A path that brings
nothing within `MISS_AFTER_S` counts as missed (`count_missed_*`) and makes the exit status 1.

Spacing: a press during a ring only extends that ring (no new banner), so each press waits for
the previous ring to end: `rings.ring_s` is set to 5 s (its minimum), and the next press goes
once the gateway has ended the ring and the page has taken the banner down, which also respects
the doorbell's own event budget (one press per 2 s) and its 3 s hold. About 5.5 s per press.
Each ring makes the page prepare its call (as in real use), which is part of the load.

Finally the page is sent to the last decrypted notification's `url` (resolved against the
gateway's origin, as the service worker opens it) and must show the live view's
`video.live-video` (`ms_push_url_to_live_video`); if it does not, exit status 1.
Targets from issue 13 are printed beside the figures; missing one does not fail the run.

Usage: python bench/notify.py [--presses 50] [--json] [--samples per-press.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
from aiohttp import web
from notify_peers import (
    PASSWORD,
    USER,
    Doorbell,
    MqttTap,
    PushReceiver,
    ReceivedPush,
    broker_ready,
    press,
    start_broker,
    start_simulator,
    stop_simulator,
    subscribe_resident,
)  # fmt: skip
from playwright.async_api import Browser, Page, async_playwright

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.automation.ha_discovery import DOORBELL_EVENT, Topics
from doorstep.gateway.config.models import Config
from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import ACCOUNTS, DEVICES, MQTT, RINGS

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--allow-loopback-in-peer-connection", "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]  # fmt: skip
RESIDENT, RESIDENT_PASSWORD = "rita", "bench resident password"  # a throwaway account
CAMERA = "front"
RING_S = 5.0
"""The shortest ring the gateway allows (`rings.ring_s`): each press must start a new ring."""
MISS_AFTER_S = 5.0
"""A path that brings nothing this long after the press has missed it."""
PRESS_GAP_S = 2.1
"""Least time between presses: the doorbell's budget is 1 event/s, and a press is 2 events."""
ONLINE_TIMEOUT_S = 60.0
RING_END_TIMEOUT_S = RING_S + 15.0
POLL_S = 0.005
"""How often arrival lists are looked at; the arrivals carry their own time stamps."""
TARGETS_P99_MS = {"banner": 250.0, "push": 300.0, "mqtt": 100.0}
PATHS = tuple(TARGETS_P99_MS)

BANNER_STAMPS = """(() => {
  window.__banners = [];
  let shown = false;
  const check = () => {
    const now = document.querySelector('#ring:not([hidden]) #answer') !== null;
    if (now && !shown) requestAnimationFrame(() => window.__banners.push(Date.now()));
    shown = now;
  };
  new MutationObserver(check).observe(document,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['hidden']});
})();"""
BANNER_DOWN = "() => document.querySelector('#ring:not([hidden])') === null"


def gateway_config(doorbell: Doorbell, folder: Path, receiver: PushReceiver, port: int) -> Config:
    return Config.model_validate({
        "storage": {"data_dir": folder / "data"},
        "live": {"host_addresses": ["127.0.0.1"]},
        "recording": {"mode": "off"},  # bench/record.py measures recording
        "rings": {"ring_s": RING_S},
        "push": {"contact": "mailto:bench@doorstep.example",
                 "allowed_endpoint_hosts": [receiver.origin]},
        "mqtt": {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD},
        "cameras": [{"id": CAMERA, "name": "Front door", "host": doorbell.host,
                     "port": doorbell.port, "username": doorbell.username,
                     "password": doorbell.password}],
    })  # fmt: skip


async def until(check: Callable[[], bool], what: str, within_s: float) -> None:
    """Poll `check()` until true; RuntimeError naming `what` after `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {within_s:.0f} s: {what}")
        await asyncio.sleep(0.05)


@dataclass
class Rig:
    """Everything running: the gateway, its page, the push service and the MQTT subscriber."""

    app: web.Application
    url: str
    page: Page
    receiver: PushReceiver
    mqtt: MqttTap
    doorbell: Doorbell
    http: aiohttp.ClientSession
    samples: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})
    missed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PATHS, 0))
    per_press: list[dict[str, float | None]] = field(default_factory=list)
    """Each press's milliseconds by path (None: missed), for `--samples`."""
    last_push: ReceivedPush | None = None


async def banner_ms(rig: Rig, seen: int, pressed_wall: float) -> float | None:
    try:
        await rig.page.wait_for_function(
            "n => window.__banners.length > n", arg=seen, timeout=MISS_AFTER_S * 1000
        )
    except Exception:  # a Playwright TimeoutError: the banner never showed
        return None
    stamp: float = await rig.page.evaluate("n => window.__banners[n]", seen)
    return stamp - pressed_wall * 1000


async def push_ms(rig: Rig, seen: int, pressed: float) -> float | None:
    deadline = pressed + MISS_AFTER_S
    while len(rig.receiver.received) <= seen:
        if time.perf_counter() > deadline:
            return None
        await asyncio.sleep(POLL_S)
    message = rig.receiver.received[seen]
    if message.json().get("kind") != "ring":
        raise RuntimeError(f"the push message is not a ring: {message.json()}")
    rig.last_push = message
    return (message.at - pressed) * 1000


async def mqtt_ms(rig: Rig, seen: int, pressed: float) -> float | None:
    deadline = pressed + MISS_AFTER_S
    while len(rig.mqtt.arrivals) <= seen:
        if time.perf_counter() > deadline:
            return None
        await asyncio.sleep(POLL_S)
    at, payload = rig.mqtt.arrivals[seen]
    ring = json.loads(payload)
    if (ring.get("event_type"), ring.get("camera_id")) != ("ring", CAMERA):
        raise RuntimeError(f"the MQTT message is not the doorbell's ring: {ring}")
    return (at - pressed) * 1000


async def ring_over(rig: Rig) -> None:
    """The gateway ended the ring and the page took its banner down."""
    tracker = rig.app[RINGS]
    await until(lambda: tracker.current(CAMERA) is None, "the ring ends", RING_END_TIMEOUT_S)
    await rig.page.wait_for_function(BANNER_DOWN, timeout=RING_END_TIMEOUT_S * 1000)


async def press_all(rig: Rig, presses: int) -> None:
    """Each press timed on the three paths at once; the next after that ring is over."""
    last = -PRESS_GAP_S
    hold = 0.0
    for _ in range(presses):
        await ring_over(rig)
        await asyncio.sleep(max(0.0, last + max(PRESS_GAP_S, hold + 0.2) - time.monotonic()))
        seen_banners: int = await rig.page.evaluate("() => window.__banners.length")
        seen_push, seen_mqtt = len(rig.receiver.received), len(rig.mqtt.arrivals)
        last = time.monotonic()
        pressed_wall, pressed = time.time(), time.perf_counter()
        hold = await press(rig.http, rig.doorbell)
        results = await asyncio.gather(
            banner_ms(rig, seen_banners, pressed_wall),
            push_ms(rig, seen_push, pressed),
            mqtt_ms(rig, seen_mqtt, pressed),
        )
        rig.per_press.append(dict(zip(PATHS, results, strict=True)))
        for path, ms in zip(PATHS, results, strict=True):
            if ms is None:
                rig.missed[path] += 1
            else:
                rig.samples[path].append(ms)
    await ring_over(rig)


async def url_opens_live_view(rig: Rig) -> float | None:
    """Milliseconds from opening the last notification's URL to the live view's video."""
    if rig.last_push is None:
        return None
    target = urljoin(rig.url, rig.last_push.json()["url"])
    started = time.perf_counter()
    try:
        await rig.page.goto(target)
        await rig.page.locator("video.live-video").wait_for(state="visible", timeout=20_000)
    except Exception as exc:  # Playwright's errors: the live view did not open
        logging.getLogger("bench").error("the notification URL %s did not open: %s", target, exc)
        return None
    elapsed = (time.perf_counter() - started) * 1000
    if f"#/live/{CAMERA}" not in rig.page.url:
        logging.getLogger("bench").error("%s ended on %s, not the live view", target, rig.page.url)
        return None
    await rig.page.goto(urljoin(rig.url, "/#/cameras"))  # leaving the live view hangs up
    return elapsed


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


async def open_page(rig_url: str, browser: Browser) -> Page:
    """The resident's phone: signed in, on the cameras page, its event stream open."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    await context.add_init_script(BANNER_STAMPS)
    page: Page = await context.new_page()
    await page.goto(rig_url + "#/signin")
    await page.fill("input[name=username]", RESIDENT)
    await page.fill("input[name=password]", RESIDENT_PASSWORD)
    async with page.expect_response(lambda r: r.url.endswith("/api/events/stream"), timeout=30_000):
        await page.click("button[type=submit]")
    await page.wait_for_url("**/#/cameras")
    await page.locator(f'.camera[data-camera="{CAMERA}"]').wait_for()
    return page


async def measure(presses: int, samples: Path | None) -> tuple[dict[str, float], list[str]]:
    folder = Path(tempfile.mkdtemp(prefix="doorstep-bench-notify-"))
    broker = await asyncio.to_thread(start_broker, folder / "mosquitto")
    doorbell = await start_simulator()
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        async with PushReceiver() as receiver, aiohttp.ClientSession(trust_env=False) as http:
            app = await asyncio.to_thread(
                build_app, gateway_config(doorbell, folder, receiver, broker.port)
            )
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
            console = Principal(0, "console", "owner")
            accounts = app[ACCOUNTS]
            user = await accounts.create_user(
                console, RESIDENT, RESIDENT_PASSWORD, "resident", "bench"
            )
            await accounts.update_user(console, user.id, None, None, {CAMERA}, "bench")
            supervisor = app[DEVICES].supervisors[CAMERA]
            await until(
                lambda: supervisor.state is CameraState.ONLINE, "the doorbell online",
                ONLINE_TIMEOUT_S,
            )  # fmt: skip
            await until(lambda: app[MQTT].connected, "the gateway on the broker", ONLINE_TIMEOUT_S)
            tap = MqttTap(
                broker, Topics("homeassistant", "doorstep").event(CAMERA, DOORBELL_EVENT.key)
            )
            tasks.append(asyncio.create_task(tap.run(), name="bench:mqtt"))
            await asyncio.wait_for(tap.ready.wait(), ONLINE_TIMEOUT_S)
            await subscribe_resident(url, receiver, RESIDENT, RESIDENT_PASSWORD)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=FLAGS
                )
                page = await open_page(url, browser)
                rig = Rig(app, url, page, receiver, tap, doorbell, http)
                await press_all(rig, presses)
                result = report(rig, presses, await url_opens_live_view(rig))
                if samples is not None:
                    text = json.dumps(rig.per_press, indent=0)
                    await asyncio.to_thread(samples.write_text, text + "\n")
                await browser.close()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        await stop_simulator(doorbell.process)
        await asyncio.to_thread(broker.stop)
        shutil.rmtree(folder, ignore_errors=True)
    return result


def report(rig: Rig, presses: int, opened_ms: float | None) -> tuple[dict[str, float], list[str]]:
    """The figures, and what failed (a missed message, the URL not opening the live view)."""
    figures: dict[str, float] = {"count_presses": presses}
    failures = []
    for path in PATHS:
        values = rig.samples[path]
        if values:
            figures[f"p50_ms_press_to_{path}"] = round(percentile(values, 0.50), 1)
            figures[f"p99_ms_press_to_{path}"] = round(percentile(values, 0.99), 1)
            figures[f"max_ms_press_to_{path}"] = round(max(values), 1)
        figures[f"target_p99_ms_press_to_{path}"] = TARGETS_P99_MS[path]
        figures[f"count_missed_{path}"] = rig.missed[path]
        if rig.missed[path]:
            failures.append(f"{rig.missed[path]} of {presses} presses brought no {path}")
    figures["count_missed_live_view"] = int(opened_ms is None)
    if opened_ms is None:
        failures.append("the push notification's url did not open the live view")
    else:
        figures["ms_push_url_to_live_video"] = round(opened_ms, 1)
    return figures, failures


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=50, help="doorbell presses (default 50)")
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    parser.add_argument(
        "--samples", type=Path, help="also write each press's ms by path (null: missed) here"
    )
    args = parser.parse_args()
    if args.presses < 1:
        parser.error("--presses must be at least 1")
    broker_ready()
    figures, failures = asyncio.run(measure(args.presses, args.samples))
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            if name.startswith("target_"):
                continue
            unit = "ms" if "_ms_" in f"_{name}_" else "count"
            target = figures.get(f"target_{name}")
            beside = "" if target is None else f"  (target < {target:g} ms)"
            print(f"{name}: {value} {unit}{beside}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
