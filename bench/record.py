"""Recording, measured: the gateway's CPU per recording camera, with and without a live viewer;
memory; doorbell press → clip file opened; the pre-roll really captured; the clip list with 100k
clips; the event loop's lag while retention deletes 10k clips; click → first frame in Chromium.

The simulated cameras (`doorstep simulate`: 1080p30 H.264 at 4 Mbit/s with PCMU audio, an IDR
every second) run in their own process; the gateway (`build_app`, on 127.0.0.1) runs in this
one, so this process's CPU time is the gateway's. Headless Chromium (Debian's) is the viewer.

- cpu: the gateway with N cameras (1, then 8) and recording off, then the same gateway with
  every camera recording continuously; `cpu_pct_per_recording_camera_N_cameras` is the
  difference divided by N (what recording costs), beside the totals. Then, with 8 recording,
  one Chromium live viewer of one camera. `--cpu-seconds` each, the median of its thirds.
- press_to_clip_file: the simulated doorbell (events mode, 5 s pre-roll) is pressed through the
  simulator's control API; the time until its clip's `.part` file exists. Median of `--runs`.
- preroll_s_captured: how far before the press the clip starts (the pre-roll asked: 5 s).
- clip list: 100k clips of 8 cameras over 30 days in a fresh database; the clips page's query
  (newest 50; one camera; one kind; a day) p50/p99 over 400 runs.
- retention: 10k expired clips (real files) deleted by one retention pass while a probe measures
  how late a 5 ms sleep wakes up; p99 of that lag.
- click_to_first_frame: the clips page in Chromium, a clip card clicked → the video element's
  first decoded frame. Median of 5.

Usage: python bench/record.py [--cpu-seconds 15] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright

from doorstep.gateway.app import build_app
from doorstep.gateway.audit.log import AuditLog
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.recording.retention import ClipRetention
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipQuery, Storage
from doorstep.gateway.web.keys import ACCOUNTS, RECORDING, SETTINGS, STORAGE

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
         "--allow-loopback-in-peer-connection", "--disable-background-networking"]  # fmt: skip
PASSWORD = "bench password 123"  # noqa: S105  # a throwaway account in a temporary directory
DEVICE = re.compile(r"^(\S+)\s+(\S+)\s+onvif=http://([\d.]+):(\d+)/\S+ .*user=(\S+) password=(\S+)")
FIRST_FRAME = (
    "() => document.querySelector('video.live-video')?.getVideoPlaybackQuality()"
    ".totalVideoFrames > 0"
)
CLIP_FRAME = (
    "() => { const v = document.querySelector('#clip-video');"
    " return v && v.getVideoPlaybackQuality().totalVideoFrames > 0; }"
)


UNITS = {"pct": "%", "mib": "MiB", "ms": "ms", "s": "s"}


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


async def start_simulator(
    folder: Path, cameras: int
) -> tuple[asyncio.subprocess.Process, list[dict[str, str]]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "simulate", "--cameras", str(cameras),
        "--doorbells", "1", "--resolution", "1080p", "--fps", "30", "--bitrate", "4000",
        "--discovery-port", "0", "--control-file", str(folder / "control.json"),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    devices = []
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 300)).decode()
        if not line:
            raise RuntimeError("the simulator exited")
        if found := DEVICE.match(line):
            name, kind, host, port, user, password = found.groups()
            devices.append({"name": name, "kind": kind, "host": host, "port": port,
                            "username": user, "password": password})  # fmt: skip
        if "simulator running" in line:
            return process, devices


async def press(folder: Path, device: str) -> None:
    control = json.loads((folder / "control.json").read_text())
    async with aiohttp.ClientSession() as http:
        await http.post(f"{control['url']}/devices/{device}/press",
                        headers={"Authorization": f"Bearer {control['token']}"})  # fmt: skip


def gateway_config(folder: Path, devices: list[dict[str, str]], cameras: int) -> Config:
    entries = []
    for device in [d for d in devices if d["kind"] == "camera"][:cameras] + [
        d for d in devices if d["kind"] == "doorbell"
    ]:
        entry: dict[str, Any] = {
            "id": device["name"], "name": device["name"], "host": device["host"],
            "port": int(device["port"]), "username": device["username"],
            "password": device["password"],
        }  # fmt: skip
        if device["kind"] == "doorbell":
            entry["recording"] = {"mode": "events", "preroll_s": 5}
        entries.append(entry)
    return Config.model_validate({
        "storage": {"data_dir": folder / f"data-{cameras}"},
        "live": {"host_addresses": ["127.0.0.1"]},
        "recording": {"mode": "off"},
        "cameras": entries,
    })  # fmt: skip


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/"


async def cpu_window(seconds: float, parts: int = 3) -> float:
    """This process's CPU (% of a core) over `seconds`: the median of `parts` equal windows,
    so a burst of other work (a camera's reconnect, a retention pass) moves no figure."""
    shares = []
    for _ in range(parts):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds / parts)
        shares.append((time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100)
    return statistics.median(shares)


async def wait_for(predicate: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def sign_in(page: Page, url: str, username: str) -> None:
    await page.goto(url + "#/signin")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/#/cameras")


async def cpu_cases(args: argparse.Namespace, folder: Path, devices: list[dict[str, str]],
                    browser: Browser, figures: dict[str, float]) -> None:  # fmt: skip
    for cameras in (1, 8):
        app = await asyncio.to_thread(build_app, gateway_config(folder, devices, cameras))
        runner, url = await serve(app)
        try:
            ids = [d["name"] for d in devices if d["kind"] == "camera"][:cameras]
            await asyncio.sleep(5)  # the cameras come online, the doorbell's pre-roll fills
            idle = await cpu_window(args.cpu_seconds)
            await app[SETTINGS].update("recording", {"mode": "continuous"}, "bench")
            await wait_for(lambda r=app[RECORDING].recorders, ids=ids: all(
                c in r and r[c].recording for c in ids), 30, "every camera recording")  # fmt: skip
            await asyncio.sleep(2)
            busy = await cpu_window(args.cpu_seconds)
            figures[f"cpu_pct_gateway_{cameras}_cameras_not_recording"] = round(idle, 2)
            figures[f"cpu_pct_gateway_{cameras}_cameras_recording"] = round(busy, 2)
            figures[f"cpu_pct_per_recording_camera_{cameras}_cameras"] = round(
                (busy - idle) / cameras, 2
            )
            if cameras == 8:
                figures["rss_mib_8_cameras_recording"] = round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                )
                console = Principal(0, "console", "owner")
                doorbell = next(d["name"] for d in devices if d["kind"] == "doorbell")
                await app[ACCOUNTS].create_user(console, "viewer", PASSWORD, "resident", "bench",
                                                {*ids, doorbell})  # fmt: skip
                page = await browser.new_page()
                await sign_in(page, url, "viewer")
                await page.goto(url + f"#/live/{ids[0]}")
                await page.wait_for_function(FIRST_FRAME, timeout=30_000)
                await asyncio.sleep(2)
                figures["cpu_pct_gateway_8_recording_1_live_viewer"] = round(
                    await cpu_window(args.cpu_seconds), 2
                )
                await page.close()
                await press_cases(args, folder, app, devices, figures)
                await click_cases(browser, app, url, figures)
        finally:
            await runner.cleanup()


async def press_cases(
    args: argparse.Namespace, folder: Path, app: web.Application,
    devices: list[dict[str, str]], figures: dict[str, float],
) -> None:  # fmt: skip
    doorbell = next(d["name"] for d in devices if d["kind"] == "doorbell")
    root = app[STORAGE].database.path.parent / CLIPS_DIR / doorbell
    opened, prerolls = [], []
    for _ in range(args.runs):
        await wait_for(
            lambda: not app[RECORDING].recorders[doorbell].recording, 60, "a quiet doorbell"
        )
        await asyncio.sleep(6)  # a full pre-roll
        before = set(root.rglob("*.part")) if root.exists() else set()
        pressed, pressed_wall = time.perf_counter(), time.time()
        await press(folder, doorbell)
        while not (set(root.rglob("*.part")) - before if root.exists() else set()):
            if time.perf_counter() - pressed > 10:
                raise RuntimeError("no clip file within 10 s of the press")
            await asyncio.sleep(0.002)
        opened.append((time.perf_counter() - pressed) * 1000)
        await wait_for(
            lambda: not app[RECORDING].recorders[doorbell].recording, 60, "the clip's end"
        )
        await asyncio.sleep(1)
        [clip] = await app[STORAGE].clips.find(ClipQuery(cameras=[doorbell], limit=1))
        prerolls.append(pressed_wall - clip.started_at.timestamp())
    figures["median_ms_press_to_clip_file_opened"] = round(statistics.median(opened), 1)
    figures["min_s_preroll_captured"] = round(min(prerolls), 2)


async def click_cases(browser: Browser, app: web.Application, url: str,
                      figures: dict[str, float]) -> None:  # fmt: skip
    page = await browser.new_page()
    await sign_in(page, url, "viewer")
    times = []
    for _ in range(5):
        await page.goto(url + "#/cameras")
        await page.goto(url + "#/clips")
        card = page.locator(".clip-card").first
        await card.wait_for(timeout=10_000)
        clicked = time.perf_counter()
        await card.click()
        await page.wait_for_function(CLIP_FRAME, timeout=20_000, polling=5)
        times.append((time.perf_counter() - clicked) * 1000)
    await page.close()
    figures["median_ms_click_to_first_frame"] = round(statistics.median(times), 1)


def seed_clips(db: Path, count: int, root: Path | None, days_old: float) -> list[str]:
    """`count` clips of 8 cameras spread over 30 days (or all `days_old` old, with files)."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    conn = sqlite3.connect(db)
    ids = []
    try:
        with conn:
            created = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            conn.executemany(
                "INSERT OR IGNORE INTO cameras (id, name, driver, host, port, created_at) "
                "VALUES (?, ?, 'rtsp', '127.0.0.1', 9, ?)",
                [(f"cam{i}", f"Cam {i}", created) for i in range(8)],
            )
            rows = []
            for n in range(count):
                age = days_old if root is not None else rng.uniform(0, 30)
                start = now - timedelta(days=age, seconds=n)
                clip_id = secrets.token_urlsafe(16)
                camera = f"cam{n % 8}"
                path = f"{camera}/events/{start:%Y-%m-%d}/{start:%H%M%S}000-{clip_id}.mp4"
                if root is not None:
                    file = root / path
                    file.parent.mkdir(parents=True, exist_ok=True)
                    file.write_bytes(b"\0" * 1024)
                kinds = "," + rng.choice(["motion", "person", "doorbell", "vehicle"]) + ","
                at = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                end = (start + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                rows.append((clip_id, camera, path, at, end, 1024, 30000, kinds))
                ids.append(clip_id)
            conn.executemany(
                "INSERT INTO clips (id, camera_id, path, started_at, ended_at, size_bytes, "
                "duration_ms, kinds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        conn.close()
    return ids


async def storage_cases(folder: Path, figures: dict[str, float]) -> None:
    data = folder / "clips-db"
    storage = await Storage.open(data)
    await asyncio.to_thread(seed_clips, storage.database.path, 100_000, None, 0)
    day = datetime.now(UTC) - timedelta(days=3)
    queries = [
        ClipQuery(limit=50), ClipQuery(cameras=["cam3"], limit=50),
        ClipQuery(kind="doorbell", limit=50),
        ClipQuery(cameras=["cam1"], since=day, until=day + timedelta(days=1), limit=100),
    ]  # fmt: skip
    times = []
    for n in range(400):
        started = time.perf_counter()
        await storage.clips.find(queries[n % len(queries)])
        times.append((time.perf_counter() - started) * 1000)
    figures["p50_ms_clip_list_100k_clips"] = round(statistics.median(times), 2)
    figures["p99_ms_clip_list_100k_clips"] = round(percentile(times, 0.99), 2)
    await storage.close()

    data = folder / "retention-db"
    storage = await Storage.open(data)
    root = data / CLIPS_DIR
    await asyncio.to_thread(seed_clips, storage.database.path, 10_000, root, 40)
    retention = ClipRetention(storage.clips, storage.holds, AuditLog(storage.audit), root,
                              days=lambda camera, mode: 7, min_free=lambda: 0)  # fmt: skip
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - started - 0.005) * 1000)

    prober = asyncio.create_task(probe())
    started = time.perf_counter()
    result = await retention.run_once()
    figures["s_retention_pass_10k_clips"] = round(time.perf_counter() - started, 2)
    done.set()
    await prober
    if result.expired != 10_000:
        raise RuntimeError(f"the pass deleted {result.expired} clips, not 10000")
    figures["p99_ms_event_loop_lag_retention_10k_clips"] = round(percentile(lags, 0.99), 2)
    await storage.close()


async def measure(args: argparse.Namespace) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="doorstep-bench-record-"))
    figures: dict[str, float] = {}
    await storage_cases(folder, figures)
    simulator, devices = await start_simulator(folder, 8)
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                       args=FLAGS)  # fmt: skip
            try:
                await cpu_cases(args, folder, devices, browser, figures)
            finally:
                await browser.close()
    finally:
        simulator.terminate()
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(simulator.wait(), 10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu-seconds", type=float, default=15.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    args = parser.parse_args()
    figures = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        unit = next((UNITS[t] for t in name.split("_")[:2] if t in UNITS), "")
        print(f"{name}: {value} {unit}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
