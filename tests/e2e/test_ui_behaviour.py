"""How the rebuilt UI behaves, in headless Chromium against an in-process gateway: views give
back their listeners, intervals and calls when they go; one push stream feeds every page; a
slow page cannot replace a newer one; the activity feed's episodes and words; the ring's chime,
mute, system notification, and its banner leaving every page once someone answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Route

from doorstep.gateway.web.keys import CAMERAS, LIVE

from .walk import (
    OWNER_PASSWORD,
    RESIDENT_PASSWORD,
    Gateway,
    chromium,  # noqa: F401  # fixture
    open_page,
    set_up_owner,
    sign_in,
    start_gateway,
)

pytestmark = pytest.mark.browser

# Test-only instrumentation: count push streams, live intervals, chime notes, notifications.
INSTRUMENT = """(() => {
  window.__streams = 0;
  const Source = window.EventSource;
  window.EventSource = function (...args) { window.__streams += 1; return new Source(...args); };
  window.EventSource.prototype = Source.prototype;
  Object.assign(window.EventSource, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
  window.__intervals = new Set();
  const set = window.setInterval, clear = window.clearInterval;
  window.setInterval = (...args) => {
    const id = set(...args); window.__intervals.add(id); return id;
  };
  window.clearInterval = (id) => { window.__intervals.delete(id); return clear(id); };
  window.__notes = 0;
  const oscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__notes += 1; return oscillator.call(this);
  };
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState',
    {configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; }});
  window.__shown = [];
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    window.__shown.push({title, body: options.body, url: options.data && options.data.url});
    return show.call(this, title, options);
  };
})();"""
COUNTS = "async () => (await import('/static/lib/store.js')).listenerCounts()"


@pytest.fixture
async def gateway(
    simulator: Any, aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path
) -> Gateway:
    """Set up, with an owner (before that, every page leads to first-run setup)."""
    running = await start_gateway(simulator, aiohttp_server, tmp_path)
    await set_up_owner(running, aiohttp_client)
    return running


async def test_views_release_what_they_hold_and_one_stream_feeds_them(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
) -> None:
    context = await chromium.new_context()
    await context.add_init_script(INSTRUMENT)
    watched = await open_page(context)
    page = watched.page
    await sign_in(watched, gateway.url, "rita", RESIDENT_PASSWORD)
    await page.wait_for_url("**/#/cameras")
    await page.locator('.camera[data-camera="front"] img.thumb').wait_for()
    baseline = await page.evaluate(COUNTS)
    intervals = await page.evaluate("window.__intervals.size")
    assert "camera-event" not in baseline  # the cameras page follows states, not events

    for hash_, ready in (
        ("#/activity", "text=What your cameras noticed"),
        ("#/camera/front", "text=About this camera"),
        ("#/activity/front", "text=What your cameras noticed"),
    ):
        await page.goto(gateway.url + hash_)
        await page.locator(ready).wait_for()
        assert (await page.evaluate(COUNTS))["camera-event"] == 1  # this view's, only
    await page.goto(gateway.url + "#/live/front")
    await page.locator(".live-status[data-state=connected]").wait_for(timeout=20_000)
    assert len(gateway.app[LIVE].sessions) == 1
    # Leaving the call's page (a tab, not Hang up) ends the call on the server too.
    await page.click('nav a[href="#/cameras"]')
    for _ in range(100):
        if not gateway.app[LIVE].sessions:
            break
        await asyncio.sleep(0.05)
    assert gateway.app[LIVE].sessions == {}
    await page.locator('.camera[data-camera="front"] img.thumb').wait_for()
    assert await page.evaluate(COUNTS) == baseline
    assert await page.evaluate("window.__intervals.size") == intervals
    assert await page.evaluate("window.__streams") == 1
    assert watched.problems == []


async def test_a_slow_page_cannot_replace_a_newer_one(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
) -> None:
    # Blocked service worker: Playwright's routing sees only requests the page itself sends.
    context = await chromium.new_context(service_workers="block")
    watched = await open_page(context)
    page = watched.page
    await sign_in(watched, gateway.url, "rita", RESIDENT_PASSWORD)
    await page.wait_for_url("**/#/cameras")
    await page.locator('.camera[data-camera="front"]').wait_for()
    slow = {"on": True}

    async def late(route: Route) -> None:
        if slow["on"]:
            await asyncio.sleep(2.0)
        try:
            await route.continue_()
        except Exception:  # the page gave up on it (aborted): the point
            return

    await page.route("**/api/cameras", late)
    await page.goto(gateway.url + "#/camera/front")  # asks for the camera list, slowly
    await page.click('nav a[href="#/settings"]')  # the person moves on at once
    await page.wait_for_timeout(3000)
    slow["on"] = False
    assert page.url.endswith("#/settings")
    assert await page.locator("h1").inner_text() == "Settings"
    assert await page.locator(".camera-page").count() == 0


async def test_episodes_merge_starts_ends_and_sources_and_say_what_happened(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
) -> None:
    watched = await open_page(await chromium.new_context())
    page = watched.page
    await page.goto(gateway.url + "#/signin")
    await page.locator("input[name=username]").wait_for()
    t0 = 1_800_000_000_000
    result = await page.evaluate(
        """async (t0) => {
      const {episodes} = await import('/static/lib/episodes.js');
      const {episodeSentence} = await import('/static/components/episode-card.js');
      const {indexMeta} = await import('/static/lib/words.js');
      const meta = indexMeta(await (await fetch('/api/meta')).json());
      const at = (ms) => new Date(t0 + ms).toISOString();
      const e = (id, camera_id, kind, active, ms, source, initial = false) =>
        ({id, camera_id, kind, active, initial, received_at: at(ms), source});
      const events = [
        e(1, 'garden', 'motion', false, -60000, 'onvif', true),   // state at subscription
        e(2, 'garden', 'motion', true, 0, 'onvif'),
        e(3, 'garden', 'motion', true, 500, 'webhook'),            // a second source
        e(4, 'garden', 'motion', false, 40000, 'onvif'),
        e(5, 'garden', 'motion', false, 40400, 'webhook'),
        e(6, 'front', 'doorbell', true, 90000, 'onvif'),
        e(7, 'front', 'doorbell', null, 90200, 'webhook'),         // the same press, twice
        e(8, 'front', 'doorbell', false, 90800, 'onvif'),
        e(9, 'front', 'doorbell', true, 150000, 'onvif'),          // a second ring
      ];
      const list = episodes(events.reverse(), {now: t0 + 151000});
      const names = {garden: 'Garden', front: 'Front door'};
      return {
        words: list.map((x) => episodeSentence(meta, x, names[x.camera_id])),
        sources: list.map((x) => x.sources.length),
        events: list.map((x) => x.events.length),
        withInitial: episodes(events, {showInitial: true, now: t0 + 151000}).length,
      };
    }""",
        t0,
    )
    assert result["words"] == [
        "Someone rang the doorbell at Front door — going on now",
        "Someone rang the doorbell at Front door",
        "Motion at Garden — 40 s",
    ]
    assert result["sources"] == [1, 2, 2]
    assert result["events"] == [1, 3, 4]
    assert result["withInitial"] == 4  # the state-at-subscription row shown when asked
    assert watched.problems == []


async def test_the_ring_chimes_notifies_a_hidden_tab_and_leaves_when_answered(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
) -> None:
    doorbell = gateway.simulator.devices["doorbell-1"]
    here_context = await chromium.new_context()
    await here_context.add_init_script(INSTRUMENT)
    await here_context.grant_permissions(["notifications"], origin=gateway.url.rstrip("/"))
    here = await open_page(here_context)
    there = await open_page(await chromium.new_context())
    for watched in (here, there):
        await sign_in(watched, gateway.url, "rita", RESIDENT_PASSWORD)
        await watched.page.wait_for_url("**/#/cameras")
        await watched.page.locator('.camera[data-camera="front"] img.thumb').wait_for()
    page = here.page
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)
    ringtone = "async () => (await import('/static/lib/ringtone.js')).ringtonePlaying()"

    # A hidden tab: the chime plays, and the system shows a notification that opens the call.
    await page.evaluate("window.__hidden = true")
    doorbell.press()
    await page.locator("#ring:not([hidden]) #answer").wait_for(timeout=10_000)
    await there.page.locator("#ring:not([hidden]) #answer").wait_for(timeout=10_000)
    await page.wait_for_function("window.__shown.length > 0", timeout=5000)
    shown = await page.evaluate("window.__shown")
    assert shown[0] == {
        "title": "Someone is at the door", "body": "Front door", "url": "/#/live/front"
    }  # fmt: skip
    assert await page.evaluate("window.__notes") > 0
    assert await page.evaluate(ringtone) is True

    # Muted: the chime stops, and stays off after a reload (the ring, still going, shows again).
    await page.evaluate("window.__hidden = false")
    mute = page.locator("#ring .ring-mute")
    await mute.click()
    assert await mute.get_attribute("aria-pressed") == "true"
    assert await page.evaluate(ringtone) is False
    await page.reload()
    await page.locator("#ring:not([hidden]) #answer").wait_for(timeout=10_000)
    assert await mute.get_attribute("aria-pressed") == "true"
    await page.mouse.click(5, 400)  # a gesture: a chime would be allowed now
    await page.wait_for_timeout(500)
    assert await page.evaluate("window.__notes") == 0  # counted since the reload
    assert await page.evaluate(ringtone) is False

    # Someone else answers: the banner goes here too, saying who.
    await there.page.click("#answer")
    await there.page.wait_for_url("**/#/live/front")
    await page.locator("#ring[hidden]").wait_for(state="attached", timeout=10_000)
    await page.get_by_text("Answered by rita").wait_for(timeout=5000)
    await there.page.locator(".live-status[data-state=connected]").wait_for(timeout=20_000)
    assert await there.page.locator("#ring").is_hidden()  # the one who answered: no banner
    await there.page.click("#hangup")
    await there.page.wait_for_url("**/#/camera/front")
    assert here.problems == []
    assert there.problems == []


async def test_the_owner_renames_a_camera_in_its_settings(
    chromium: Browser,  # noqa: F811
    gateway: Gateway,
) -> None:
    watched = await open_page(await chromium.new_context())
    page = watched.page
    await sign_in(watched, gateway.url, "alice", OWNER_PASSWORD, gateway.otp)
    await page.goto(gateway.url + "#/camera/garden")
    await page.click("#camera-settings summary")
    name = page.locator("input[name=camera-name]")
    await name.fill("Back garden")
    await page.click("text=Save settings")
    await page.get_by_text("Saved.").wait_for()
    assert await page.locator("h1").inner_text() == "Back garden"
    assert gateway.app[CAMERAS].view("garden", lambda _: True).name == "Back garden"
    await page.goto(gateway.url + "#/cameras")
    card = page.locator('.camera[data-camera="garden"] .camera-name')
    assert await card.inner_text() == "Back garden"
    assert watched.problems == []
