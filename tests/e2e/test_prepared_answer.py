"""Prepared calls in the page ("Answer faster than anyone"), in headless Chromium against an
in-process gateway and the simulated doorbell: a ring makes the page prepare the call (audited
as prepared, nothing decoded before Answer); Answer adopts that very call and the visitor shows;
someone else answering, or the ring ending unanswered, closes it; a hidden page prepares nothing
and its Answer makes the call anew; a page going out of sight lets its prepared call go and
prepares again in sight; answering twice (a double tap, the API asked again) changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.live.peer import LiveSession
from doorstep.gateway.web.keys import ACCOUNTS, DATABASE, LIVE, RINGS
from doorstep.simulator import Simulator

from ..gateway_client import until_online
from .walk import Watched, chromium, open_page  # noqa: F401  # chromium: a fixture

pytestmark = [pytest.mark.browser, pytest.mark.alone]  # counts decoded video frames

PASSWORD = "resident password"  # test accounts
# Test-only instrumentation: keep the page's peer connections (for their stats), and let the
# test say whether the page is hidden.
INSTRUMENT = """(() => {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args); window.__pcs.push(pc); return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState',
    {configurable: true, get() { return window.__hidden ? 'hidden' : 'visible'; }});
})();"""
VIDEO_STATS = """async () => {
  const out = {pcs: window.__pcs.length, states: window.__pcs.map((pc) => pc.connectionState),
    decoded: 0, packets: 0};
  const pc = window.__pcs[window.__pcs.length - 1];
  if (!pc) return out;
  for (const report of (await pc.getStats()).values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      out.decoded = report.framesDecoded || 0; out.packets = report.packetsReceived || 0;
    }
  }
  return out;
}"""
SHOWN_FRAMES = (
    "() => { const v = document.querySelector('video.live-video');"
    " return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0; }"
)
SHOW = """(hidden) => {
  window.__hidden = hidden; document.dispatchEvent(new Event('visibilitychange'));
}"""
WITHIN_S = 20.0  # generous: the suite shares two cores with everything else


def config_for(simulator: Simulator, data_dir: Path, ring_s: float) -> Config:
    """The simulator's doorbell as `front`, WebRTC on loopback, rings lasting `ring_s`."""
    doorbell = simulator.devices["doorbell-1"].profile
    return Config.model_validate({
        "storage": {"data_dir": data_dir},
        "live": {"host_addresses": ["127.0.0.1"]},
        "rings": {"ring_s": ring_s},
        "cameras": [{"id": "front", "name": "Front", "host": doorbell.host,
                     "port": doorbell.onvif_port, "username": doorbell.username,
                     "password": doorbell.password}],
    })  # fmt: skip


@dataclass
class Running:
    """The gateway under test: its address and app."""

    url: str
    app: web.Application


async def serve(
    simulator: Simulator, aiohttp_server: Any, tmp_path: Path, ring_s: float
) -> Running:
    """Build and serve the gateway; rita and sam are residents of the house, both granted it."""
    app: web.Application = await asyncio.to_thread(
        build_app, config_for(simulator, tmp_path / "data", ring_s)
    )
    server = await aiohttp_server(app, shutdown_timeout=1.0)  # pages keep their stream open
    console = Principal(0, "console", "owner")
    for name in ("rita", "sam"):
        user = await app[ACCOUNTS].create_user(console, name, PASSWORD, "resident", "test")
        await app[ACCOUNTS].update_user(console, user.id, None, None, {"front"}, "test")
    await until_online(app, "front")
    return Running(f"http://127.0.0.1:{server.port}/", app)


@pytest.fixture
async def gateway(simulator: Simulator, aiohttp_server: Any, tmp_path: Path) -> Running:
    return await serve(simulator, aiohttp_server, tmp_path, 60.0)


async def signed_in(browser: Browser, gateway: Running, username: str) -> Watched:
    """A phone-sized page with a sign-in of its own, on the cameras page, its stream open."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    await context.add_init_script(INSTRUMENT)
    watched = await open_page(context)
    page = watched.page
    await page.goto(gateway.url + "#/signin")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    # The event stream is open before any press (a press made earlier would ring no page).
    async with page.expect_response(lambda r: r.url.endswith("/api/events/stream"), timeout=30_000):
        await page.click("button[type=submit]")
    await page.wait_for_url("**/#/cameras")
    await page.locator('.camera[data-camera="front"]').wait_for()
    return watched


async def until(check: Callable[[], bool], what: str, timeout: float = WITHIN_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)


def prepared(app: web.Application, username: str) -> list[LiveSession]:
    """The user's prepared calls that are connected (signalling and ICE done)."""
    return [
        s
        for s in app[LIVE].sessions.values()
        if s.username == username and s.prepared and s.connected.is_set()
    ]


async def live_audit(
    app: web.Application, username: str, count: int = 0
) -> list[tuple[str, dict[str, Any]]]:
    """The user's live.* audit rows, oldest first: (action, detail), once there are `count`.

    A row is written after what it records shows (a call is answered, then audited: its video
    may play first), so a test waits for the rows it expects, then checks they are exactly
    those."""
    deadline = time.monotonic() + WITHIN_S
    while True:
        rows = await app[DATABASE].durable.fetchall(
            "SELECT action, detail FROM audit WHERE actor = ? AND action LIKE 'live.%'"
            " ORDER BY seq",
            (username,),
        )
        if len(rows) >= count or time.monotonic() > deadline:
            return [(action, json.loads(detail)) for action, detail in rows]
        await asyncio.sleep(0.05)


async def ring(simulator: Simulator, *pages: Page) -> None:
    """Press the doorbell; every page shows the banner."""
    simulator.devices["doorbell-1"].press()
    for page in pages:
        await page.locator("#ring:not([hidden]) #answer").wait_for(timeout=WITHIN_S * 1000)


async def video(page: Page) -> dict[str, Any]:
    """The page's peer connections' states, and the last one's video packets and frames."""
    stats: dict[str, Any] = await page.evaluate(VIDEO_STATS)
    return stats


async def shown_frames(page: Page) -> int:
    """Frames the live view's <video> has shown."""
    frames: int = await page.evaluate(SHOWN_FRAMES)
    return frames


async def test_a_ring_prepares_the_call_and_answer_shows_the_visitor_from_it(
    chromium: Browser,  # noqa: F811
    gateway: Running,
    simulator: Simulator,
) -> None:
    app = gateway.app
    watched = await signed_in(chromium, gateway, "rita")
    page = watched.page
    await ring(simulator, page)
    await until(lambda: len(prepared(app, "rita")) == 1, "the page prepares its call")
    session = prepared(app, "rita")[0]
    hold = session.hold
    assert hold is not None
    await until(lambda: hold.discarded >= 15, "the doorbell's stream flows to the hold")
    assert [a for a, _ in await live_audit(app, "rita", 1)] == ["live.prepared"]
    before = await video(page)
    assert before["pcs"] == 1
    assert before["states"] == ["connected"]
    assert (before["packets"], before["decoded"]) == (0, 0)  # nothing before Answer
    assert session.track.frames == 0
    the_ring = app[RINGS].current("front")
    assert the_ring is not None
    assert the_ring.answered_by is None  # preparing is not answering

    await page.click("#answer")
    await page.wait_for_url("**/#/live/front")
    await until_shown(page)
    await page.locator(".live-status[data-state=connected]").wait_for(timeout=WITHIN_S * 1000)
    after = await video(page)
    assert after["pcs"] == 1  # the prepared peer connection, not a new one
    assert after["decoded"] > 0
    assert list(app[LIVE].sessions) == [session.id]  # the same call, answered
    assert not session.prepared
    assert session.track.frames > 0
    answered = app[RINGS].get(the_ring.id)
    assert answered is not None
    assert answered.answered_by == "rita"
    calls = await page.evaluate(
        "async () => (await fetch('/api/live/calls?camera_id=front')).json()"
    )
    assert [p["username"] for p in calls["calls"][0]["participants"]] == ["rita"]
    audit = await live_audit(app, "rita", 2)
    assert [a for a, _ in audit] == ["live.prepared", "live.start"]
    assert audit[1][1]["prepared"] is True
    assert audit[1][1]["session"] == session.id[:8]
    # Talk still works in an adopted call: the microphone is asked for after Answer.
    await page.locator("#talk:not([disabled])").wait_for(timeout=WITHIN_S * 1000)
    assert session.mic is not None

    await page.click("#hangup")
    await page.wait_for_url("**/#/camera/front")
    await until(lambda: not app[LIVE].sessions, "hang-up ends the call on the server")
    assert watched.problems == []


async def until_shown(page: Page) -> None:
    """Until the live view's <video> has shown a frame."""
    await page.wait_for_function(f"() => ({SHOWN_FRAMES})() > 0", timeout=WITHIN_S * 1000)


async def test_someone_else_answering_closes_this_pages_prepared_call(
    chromium: Browser,  # noqa: F811
    gateway: Running,
    simulator: Simulator,
) -> None:
    app = gateway.app
    here, there = (
        await signed_in(chromium, gateway, "rita"),
        await signed_in(chromium, gateway, "sam"),
    )
    await ring(simulator, here.page, there.page)
    await until(
        lambda: len(prepared(app, "rita")) == len(prepared(app, "sam")) == 1, "both prepare"
    )
    mine = prepared(app, "rita")[0]

    await there.page.click("#answer")
    await there.page.wait_for_url("**/#/live/front")
    await until_shown(there.page)
    await here.page.locator("#ring[hidden]").wait_for(state="attached", timeout=WITHIN_S * 1000)
    await here.page.get_by_text("Answered by sam").wait_for(timeout=WITHIN_S * 1000)
    await until(lambda: mine.id not in app[LIVE].sessions, "rita's prepared call is closed")
    assert [s.username for s in app[LIVE].sessions.values()] == ["sam"]
    await here.page.wait_for_function("() => window.__pcs[0].connectionState === 'closed'")
    assert (await video(here.page))["decoded"] == 0  # it never showed anything
    ended = await live_audit(app, "rita", 2)
    assert [a for a, _ in ended] == ["live.prepared", "live.stop"]
    assert ended[1][1]["prepared"] is True  # never answered
    assert ended[1][1]["reason"] == "hang-up"  # the page closed it, at once
    await there.page.click("#hangup")
    await there.page.wait_for_url("**/#/camera/front")
    assert here.problems == []
    assert there.problems == []


async def test_a_ring_nobody_answers_closes_the_prepared_call_when_it_ends(
    chromium: Browser,  # noqa: F811
    simulator: Simulator,
    aiohttp_server: Any,
    tmp_path: Path,
) -> None:
    running = await serve(simulator, aiohttp_server, tmp_path, 5.0)  # the shortest ring
    app = running.app
    watched = await signed_in(chromium, running, "rita")
    page = watched.page
    await ring(simulator, page)
    await until(lambda: len(prepared(app, "rita")) == 1, "the page prepares its call")
    await until(lambda: app[RINGS].current("front") is None, "the ring ends")
    await until(lambda: not app[LIVE].sessions, "the prepared call is closed with it")
    await page.locator("#ring[hidden]").wait_for(state="attached", timeout=WITHIN_S * 1000)
    await page.wait_for_function("() => window.__pcs[0].connectionState === 'closed'")
    assert await page.get_by_text("Answered by").count() == 0
    ended = await live_audit(app, "rita", 2)
    assert [a for a, _ in ended] == ["live.prepared", "live.stop"]
    assert ended[1][1]["reason"] == "ring ended"
    assert ended[1][1]["frames"] == 0
    assert watched.problems == []  # the gateway closed it: the page sent no DELETE to a 404


async def test_a_hidden_page_prepares_nothing_and_its_answer_makes_the_call(
    chromium: Browser,  # noqa: F811
    gateway: Running,
    simulator: Simulator,
) -> None:
    app = gateway.app
    watched = await signed_in(chromium, gateway, "rita")
    page = watched.page
    await page.evaluate("window.__hidden = true")
    await ring(simulator, page)
    await page.wait_for_timeout(2000)
    assert app[LIVE].sessions == {}
    assert (await video(page))["pcs"] == 0
    await page.evaluate("window.__hidden = false")  # no event: the page is not told
    await page.click("#answer")  # a cold Answer, as before prepared calls
    await page.wait_for_url("**/#/live/front")
    await until_shown(page)
    session = next(iter(app[LIVE].sessions.values()))
    assert not session.prepared
    the_ring = app[RINGS].current("front")
    assert the_ring is not None
    assert the_ring.answered_by == "rita"
    audit = await live_audit(app, "rita", 1)
    assert [a for a, _ in audit] == ["live.start"]
    assert "prepared" not in audit[0][1]
    await page.click("#hangup")
    await page.wait_for_url("**/#/camera/front")
    assert watched.problems == []


async def test_answering_twice_changes_nothing(
    chromium: Browser,  # noqa: F811
    gateway: Running,
    simulator: Simulator,
) -> None:
    app = gateway.app
    watched = await signed_in(chromium, gateway, "rita")
    page = watched.page
    await ring(simulator, page)
    await until(lambda: len(prepared(app, "rita")) == 1, "the page prepares its call")
    session = prepared(app, "rita")[0]
    await page.dblclick("#answer")  # a double tap on the banner
    await page.wait_for_url("**/#/live/front")
    await until_shown(page)
    # And the API asked again for the same call: it goes on, untouched.
    again = await page.evaluate(
        """async (id) => { const r = await fetch(`/api/live/session/${id}/answer`, {method: 'POST',
          headers: {'Content-Type': 'application/json'}, body: '{}'});
          return {status: r.status, body: await r.json()}; }""",
        session.id,
    )
    assert again["status"] == 200
    assert again["body"]["started"] is False
    assert again["body"]["answered_by"] == "rita"
    shown = await shown_frames(page)
    await page.wait_for_function(
        f"() => ({SHOWN_FRAMES})() > {shown + 10}", timeout=WITHIN_S * 1000
    )
    assert list(app[LIVE].sessions) == [session.id]
    assert (await video(page))["pcs"] == 1
    assert [a for a, _ in await live_audit(app, "rita", 2)] == ["live.prepared", "live.start"]
    assert page.url.endswith("#/live/front")  # the second tap went nowhere
    await page.click("#hangup")
    await page.wait_for_url("**/#/camera/front")
    assert watched.problems == []


async def test_a_page_out_of_sight_lets_its_prepared_call_go_and_prepares_again_in_sight(
    chromium: Browser,  # noqa: F811
    gateway: Running,
    simulator: Simulator,
) -> None:
    """Every tab of a browser is one sign-in, which the gateway lets answer a ring once: a
    call left prepared in a tab the person turned away from would refuse the other tab's."""
    app = gateway.app
    watched = await signed_in(chromium, gateway, "rita")
    page = watched.page
    await ring(simulator, page)
    await until(lambda: len(prepared(app, "rita")) == 1, "the page prepares its call")
    first = prepared(app, "rita")[0]
    await page.evaluate(SHOW, True)
    await until(lambda: not app[LIVE].sessions, "hidden, the page closes its prepared call")
    await page.evaluate(SHOW, False)
    await until(lambda: len(prepared(app, "rita")) == 1, "in sight again, it prepares anew")
    second = prepared(app, "rita")[0]
    assert second.id != first.id
    await page.click("#answer")
    await page.wait_for_url("**/#/live/front")
    await until_shown(page)
    assert list(app[LIVE].sessions) == [second.id]
    assert not second.prepared
    actions = [a for a, _ in await live_audit(app, "rita", 4)]
    assert actions == ["live.prepared", "live.stop", "live.prepared", "live.start"]
    await page.click("#hangup")
    await page.wait_for_url("**/#/camera/front")
    assert watched.problems == []
