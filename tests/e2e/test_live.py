"""Live view end to end: headless Chromium receives the simulated doorbell's H.264 over WebRTC,
decodes it, and hangs up; two viewers share one RTSP session to the camera."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright

from gateway.app import build_app
from gateway.auth import Principal
from gateway.config import Config
from gateway.events import CameraState
from gateway.simulator import Simulator
from gateway.web.keys import ACCOUNTS, DATABASE, DEVICES, LIVE

from .test_webui import CHROMIUM, QUIET_FLAGS

pytestmark = pytest.mark.browser

START = """async ({camera, username, password}) => {
  await fetch('/api/session', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username, password})});
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.append(video);
  pc.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
    setTimeout(done, 3000);
  });
  const response = await fetch(`/api/live/${camera}`, {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({sdp: pc.localDescription.sdp})});
  const answer = await response.json();
  await pc.setRemoteDescription({type: 'answer', sdp: answer.sdp});
  window.pc = pc; window.session = answer.session;
  return response.status;
}"""

STATS = """async () => {
  const stats = await window.pc.getStats();
  for (const report of stats.values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      const codec = stats.get(report.codecId);
      return {decoded: report.framesDecoded || 0, dropped: report.framesDropped || 0,
              codec: codec ? codec.mimeType : null, width: report.frameWidth || 0,
              received: report.framesReceived, keys: report.keyFramesDecoded, pli: report.pliCount,
              nack: report.nackCount, lost: report.packetsLost, fir: report.firCount,
              jb: report.jitterBufferDelay, jbe: report.jitterBufferEmittedCount};
    }
  }
  return {decoded: 0, dropped: 0, codec: null, width: 0};
}"""

HANG_UP = """async () => {
  const response = await fetch(`/api/live/session/${window.session}`, {method: 'DELETE',
    headers: {'Content-Type': 'application/json'}, body: '{}'});
  window.pc.close();
  return response.status;
}"""


@pytest.fixture
async def gateway(
    simulator: Simulator, aiohttp_server: Any, tmp_path: Path
) -> tuple[str, web.Application]:
    doorbell = simulator.devices["doorbell-1"].profile
    config = Config.model_validate({
        "storage": {"data_dir": tmp_path / "data"},
        "live": {"host_addresses": ["127.0.0.1"]},
        "cameras": [{"id": "front", "name": "Front", "host": doorbell.host,
                     "port": doorbell.onvif_port, "username": doorbell.username,
                     "password": doorbell.password}],
    })  # fmt: skip
    app: web.Application = await asyncio.to_thread(build_app, config)
    server = await aiohttp_server(app)
    accounts = app[ACCOUNTS]
    console = Principal(0, "console", "owner")
    user = await accounts.create_user(console, "rita", "resident password", "resident", "test")
    await accounts.update_user(console, user.id, None, None, {"front"}, "test")
    supervisor = app[DEVICES].supervisors["front"]
    for _ in range(200):
        if supervisor.state is CameraState.ONLINE:
            break
        await asyncio.sleep(0.05)
    assert supervisor.streams
    return f"http://127.0.0.1:{server.port}/", app


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=[*QUIET_FLAGS, "--allow-loopback-in-peer-connection"],
        )  # fmt: skip
        yield chromium
        await chromium.close()


async def viewer(browser: Browser, url: str) -> Page:
    page = await browser.new_page()
    await page.goto(url)
    status = await page.evaluate(
        START, {"camera": "front", "username": "rita", "password": "resident password"}
    )
    assert status == 201
    return page


async def test_live_view_decodes_h264_and_hangs_up(
    browser: Browser, gateway: tuple[str, web.Application], simulator: Simulator
) -> None:
    url, app = gateway
    first, second = await viewer(browser, url), await viewer(browser, url)
    sessions = list(app[LIVE].sessions.values())
    assert len(sessions) == 2
    timeline = []
    for _ in range(24):
        await asyncio.sleep(0.25)
        a = await first.evaluate(STATS)
        b = await second.evaluate(STATS)
        timeline.append(
            (
                a.get("received"),
                a["decoded"],
                a["dropped"],
                b.get("received"),
                b["decoded"],
                b["dropped"],
            )
        )
    print("TL", timeline)
    for page in (first, second):
        stats = await page.evaluate(STATS)
        assert stats["codec"] == "video/H264", stats
        assert stats["decoded"] >= 60, stats  # 15 fps for ~6 s
        # Known gap (issue 6): the cached GOP that primes a new viewer arrives as a burst with its
        # original timestamps, and Chromium's jitter buffer drops those frames (at most one GOP,
        # 15 frames here). Rewriting the primed frames' timestamps is the fix still to make.
        print(stats)
        assert stats["dropped"] <= 15, stats
        assert stats["width"] == 640, stats
    assert simulator.devices["doorbell-1"]._rtsp.active_sessions == 1  # one upstream for both
    assert await first.evaluate(HANG_UP) == 200
    assert await second.evaluate(HANG_UP) == 200
    # Hung up on the server too, at once: no peer connection lingers for ICE consent to expire.
    assert app[LIVE].sessions == {}
    assert {s.pc.connectionState for s in sessions} == {"closed"}
    rows = await app[DATABASE].durable.fetchall("SELECT action FROM audit WHERE actor = 'rita'")
    assert [r[0] for r in rows].count("live.start") == 2
    assert [r[0] for r in rows].count("live.stop") == 2
