"""Answer the door, measured: Answer click → first decoded frame in Chromium, gateway-added talk
latency, and the gateway's CPU and memory with 1 and with 4 viewers of one 1080p30 doorbell.

The simulated doorbell (`doorstep simulate --resolution 1080p --fps 30 --bitrate 4000`: 1080p30
H.264 at 4 Mbit/s with an IDR every second, as a doorbell is typically set) runs in its own process;
the gateway (`build_app`, served on 127.0.0.1 by `web.AppRunner`) runs in this one, so this
process's CPU time is the gateway's (plus the small Playwright driver). Headless Chromium
(Debian's, fake camera/microphone with a 1 kHz tone) is the resident's phone.

- answer: `--runs` times, with the stream cold (no viewer for longer than the hub's linger, as
  when a doorbell rings at an idle home): doorbell press → ring banner → click Answer, timed from
  the click to the video element's first decoded frame. Median and max. The call the page
  prepares on the banner is refused here (its offer aborted in the browser), so Answer makes
  the call anew, as on a page that could not prepare one.
- prepared answer ("Answer from a ring banner → first decoded frame"): `--runs` times, stream
  cold before the press; press → banner, and the call the page prepares on it connected
  (signalling and ICE done, media paused, the gateway holding the stream warm); then the click
  on Answer (the live view adopts the prepared call and answers it) → first decoded frame.
  Median and max.
- ring: in the same runs, doorbell press (the simulator's control API) → ring banner shown in
  Chromium: the whole event path (ONVIF, bus, event stream, page). Median and max (the browser
  test only checks that the banner appears).
- talk: Talk held for `--talk-seconds`; per 20 ms microphone frame, the time from aiortc handing
  the decoded frame to the talk pump to the RTP packet written to the backchannel. p50/p99.
- cpu: 1 viewer, then 4 viewers, `--cpu-seconds` each, this process's CPU as % of one core;
  RSS after the 4-viewer run. Beside each: the lowest frame rate any viewer was sent (gateway
  side) and decoded (browser side) over the window, which shows every viewer was really served.

Usage: python bench/live.py [--runs 5] [--talk-seconds 5] [--cpu-seconds 15] [--json]
       [--no-prepared]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.async_api import Browser, Page, Route, async_playwright

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.events import CameraState
from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.web.keys import ACCOUNTS, DEVICES, LIVE
from doorstep.simulator.media import write_tone_wav

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--allow-loopback-in-peer-connection", "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]  # fmt: skip
PASSWORD = "bench resident password"  # noqa: S105  # a throwaway account
LIVE_OFFER = "**/api/live/front"
FIRST_FRAME = (
    "() => { const v = document.querySelector('video.live-video');"
    " return v && v.getVideoPlaybackQuality().totalVideoFrames > 0; }"
)

DECODED = (
    "() => document.querySelector('video.live-video').getVideoPlaybackQuality().totalVideoFrames"
)


async def start_simulator(folder: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """`doorstep simulate` with one 1080p30 doorbell, in its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "simulate", "--cameras", "0", "--doorbells", "1",
        "--resolution", "1080p", "--fps", "30", "--bitrate", "4000", "--discovery-port", "0",
        "--control-file", str(folder / "control.json"), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
    found = re.search(r"onvif=http://([\d.]+):(\d+)/\S+ .*user=(\S+) password=(\S+)", line)
    if found is None:
        raise RuntimeError(f"unexpected simulator output: {line!r}")
    host, port, user, password = found.groups()
    return process, {"host": host, "port": port, "username": user, "password": password}


async def press(folder: Path) -> None:
    """Press the doorbell through the simulator's control API."""
    import aiohttp  # noqa: PLC0415

    control = json.loads((folder / "control.json").read_text())
    async with aiohttp.ClientSession() as http:
        await http.post(
            f"{control['url']}/devices/doorbell-1/press",
            headers={"Authorization": f"Bearer {control['token']}"},
        )


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "#/signin")
    await page.fill("input[name=username]", "rita")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/#/cameras")


def prepared_and_connected(app: web.Application) -> bool:
    """Whether a call prepared for the ring has connected (signalling and ICE done)."""
    return any(s.prepared and s.connected.is_set() for s in app[LIVE].sessions.values())


async def answer_once(
    page: Page,
    url: str,
    folder: Path,
    app: web.Application,
    hang_up: bool = True,
    rings: list[float] | None = None,
    prepared: bool = True,
) -> float:
    """Ring, Answer, first frame; returns milliseconds from the click (then hangs up).

    `rings` gets the milliseconds from the press to the banner. `prepared`: Answer once the
    call the page prepares is connected; else that call is refused and Answer makes it anew.
    """
    await page.goto(url + "#/cameras")
    await page.locator('.camera[data-camera="front"]').wait_for()
    await asyncio.sleep(0.5)  # the event stream (re)connects
    refused = asyncio.Event()

    async def refuse_prepare(route: Route) -> None:
        if (route.request.post_data_json or {}).get("prepare"):
            refused.set()
            await route.abort()
        else:
            await route.continue_()

    if not prepared:
        await page.route(LIVE_OFFER, refuse_prepare)
    pressed = time.perf_counter()
    await press(folder)
    await page.locator("#ring:not([hidden]) #answer").wait_for(timeout=10_000)
    if rings is not None:
        rings.append((time.perf_counter() - pressed) * 1000)
    if prepared:
        deadline = time.perf_counter() + 20
        while not prepared_and_connected(app):
            if time.perf_counter() > deadline:
                raise RuntimeError("the page prepared no call for the ring within 20 s")
            await asyncio.sleep(0.01)
    else:
        await asyncio.wait_for(refused.wait(), 20)
        await page.unroute(LIVE_OFFER, refuse_prepare)  # the Answer's own offer goes through
    clicked = time.perf_counter()
    await page.click("#answer")
    await page.wait_for_function(FIRST_FRAME, timeout=20_000, polling=5)
    elapsed = (time.perf_counter() - clicked) * 1000
    if not hang_up:
        return elapsed
    await page.click("#hangup")
    while app[LIVE].sessions:  # noqa: ASYNC110  # polling the server's state is the point
        await asyncio.sleep(0.01)
    return elapsed


async def watch(browser: Browser, url: str) -> Page:
    page = await browser.new_page()
    await sign_in(page, url)
    await page.goto(url + "#/live/front")
    await page.wait_for_function(FIRST_FRAME, timeout=20_000)
    return page


async def measure(args: argparse.Namespace) -> dict[str, float]:  # noqa: PLR0915
    folder = Path(tempfile.mkdtemp(prefix="doorstep-bench-live-"))
    hub_module.LINGER_S = 0.5  # so every Answer run starts cold, as at an idle home
    simulator, doorbell = await start_simulator(folder)
    figures: dict[str, float] = {}
    runner: web.AppRunner | None = None
    try:
        config = Config.model_validate({
            "storage": {"data_dir": folder / "data"},
            "live": {"host_addresses": ["127.0.0.1"]},
            "recording": {"mode": "off"},  # bench/record.py measures recording
            "cameras": [{"id": "front", "name": "Front door", "host": doorbell["host"],
                         "port": int(doorbell["port"]), "username": doorbell["username"],
                         "password": doorbell["password"]}],
        })  # fmt: skip
        app = await asyncio.to_thread(build_app, config)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/"
        console = Principal(0, "console", "owner")
        user = await app[ACCOUNTS].create_user(console, "rita", PASSWORD, "resident", "bench")
        await app[ACCOUNTS].update_user(console, user.id, None, None, {"front"}, "bench")
        supervisor = app[DEVICES].supervisors["front"]
        while supervisor.state is not CameraState.ONLINE:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        tone = await asyncio.to_thread(write_tone_wav, folder / "tone.wav", 1000.0)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=[*FLAGS, f"--use-file-for-fake-audio-capture={tone}"],
            )  # fmt: skip
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await sign_in(page, url)
            answers: list[float] = []
            rings: list[float] = []
            for _ in range(args.runs):
                await asyncio.sleep(3.5)  # past the linger (closed) and the visitor hold
                answers.append(
                    await answer_once(page, url, folder, app, rings=rings, prepared=False)
                )
            figures["median_ms_answer_to_first_frame"] = round(statistics.median(answers), 1)
            figures["max_ms_answer_to_first_frame"] = round(max(answers), 1)
            figures["runs_count_answer"] = len(answers)
            figures["median_ms_press_to_ring_banner"] = round(statistics.median(rings), 1)
            figures["max_ms_press_to_ring_banner"] = round(max(rings), 1)
            warm: list[float] = []
            for _ in range(0 if args.no_prepared else args.runs):
                await asyncio.sleep(3.5)  # the stream cold again before the press
                warm.append(await answer_once(page, url, folder, app, prepared=True))
            if warm:
                figures["median_ms_prepared_answer_to_first_frame"] = round(
                    statistics.median(warm), 1
                )
                figures["max_ms_prepared_answer_to_first_frame"] = round(max(warm), 1)
                figures["runs_count_prepared_answer"] = len(warm)

            # Talk: hold the button, read the pump's per-frame latencies.
            await asyncio.sleep(3.5)
            await answer_once(page, url, folder, app, hang_up=False)
            try:
                await page.locator("#talk:not([disabled])").wait_for(timeout=10_000)
            except Exception:
                note = await page.locator(".live-note").inner_text()
                raise RuntimeError(f"Talk is not available: {note!r}") from None
            session = next(iter(app[LIVE].sessions.values()))
            assert session.mic is not None
            session.mic.latencies_ms.clear()
            await page.locator("#talk").hover()
            await page.mouse.down()
            await asyncio.sleep(args.talk_seconds)
            await page.mouse.up()
            talk = sorted(session.mic.latencies_ms)
            figures["p50_ms_talk_added_latency"] = round(talk[len(talk) // 2], 3)
            figures["p99_ms_talk_added_latency"] = round(talk[int(len(talk) * 0.99) - 1], 3)
            figures["frames_count_talk"] = len(talk)

            # CPU with 1 viewer (the page above), then 4.
            pages = [page]
            for viewers in (1, 4):
                while len(pages) < viewers:
                    pages.append(await watch(browser, url))
                await asyncio.sleep(2)
                sessions = list(app[LIVE].sessions.values())
                sent0 = [s.track.frames for s in sessions]
                decoded0 = [await view.evaluate(DECODED) for view in pages]
                cpu0, wall0 = time.process_time(), time.perf_counter()
                await asyncio.sleep(args.cpu_seconds)
                wall = time.perf_counter() - wall0
                cpu = (time.process_time() - cpu0) / wall * 100
                figures[f"cpu_pct_{viewers}_viewers_1080p30"] = round(cpu, 1)
                # Every viewer really was being served for the whole window.
                fps = [(s.track.frames - n) / wall for s, n in zip(sessions, sent0, strict=True)]
                figures[f"fps_min_sent_per_viewer_{viewers}_viewers"] = round(min(fps), 1)
                decoded = [
                    (await view.evaluate(DECODED) - n) / wall
                    for view, n in zip(pages, decoded0, strict=True)
                ]
                figures[f"fps_min_decoded_per_viewer_{viewers}_viewers"] = round(min(decoded), 1)
            figures["rss_mib_4_viewers"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )
            for view in pages:
                with contextlib.suppress(Exception):
                    await view.click("#hangup")
            await browser.close()
    finally:
        if runner is not None:
            await runner.cleanup()
        simulator.terminate()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(simulator.wait(), 10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--talk-seconds", type=float, default=5.0)
    parser.add_argument("--cpu-seconds", type=float, default=15.0)
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    parser.add_argument(
        "--no-prepared", action="store_true",
        help="leave out the prepared-answer case (to compare with a build that has none)",
    )  # fmt: skip
    args = parser.parse_args()
    figures: Any = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(figures))
        return
    units = {"ms": "ms", "pct": "%", "mib": "MiB", "count": "count", "fps": "fps"}
    for name, value in figures.items():
        unit = next((u for key, u in units.items() if f"_{key}_" in f"_{name}_"), "")
        print(f"{name}: {value} {unit}")


if __name__ == "__main__":
    main()
