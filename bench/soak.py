"""Soak: 16 cameras with events, 2 live viewers and bursts of sign-ins for a given time; the
gateway's RSS, open fds, asyncio tasks and event-loop lag at the start and at the end.

Three processes, so that what is measured is the gateway alone:

- the simulator (`doorstep simulate --cameras 16 --doorbells 0`), its own process;
- the gateway (`build_app`, served on 127.0.0.1 by `web.AppRunner`), in this process. Eight
  cameras deliver events by PullPoint, eight by callback (webhooks). RSS and fds are read from
  /proc/self, tasks are `asyncio.all_tasks()`, and loop lag is how late a 50 ms sleep wakes up,
  sampled all the time by a task on the gateway's loop;
- the load (this script again with `--load-child`): two aiortc viewers (one per resident, on
  cameras 1 and 2) that decode every frame and call again if a call ends; motion on every camera
  every `--event-interval` seconds (on, then off), through the simulator's control API; every
  `--signin-interval` seconds a burst of `--signin-burst` wrong-password sign-ins spread over
  127.0.0.2–127.0.0.5 (all loopback).

"start" figures are taken `--warmup` seconds after the load begins (viewers connected, caches
warm), "end" figures when `--minutes` are over. Loop lag p99 is over the whole run after warmup.

Usage: python bench/soak.py [--minutes 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.auth import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import ACCOUNTS, BUS, DEVICES, LIVE

CAMERAS = 16
VIEWERS = 2
PASSWORD = "soak resident password"  # noqa: S105  # throwaway accounts of a throwaway gateway
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
ATTACKERS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
LAG_TICK_S = 0.05
SIMULATOR_START_TIMEOUT_S = 120.0  # the first start encodes the media library
ONLINE_TIMEOUT_S = 90.0
SCRIPT = str(Path(__file__).resolve())


# -- the load process ------------------------------------------------------------------------


async def viewer(
    url: str, username: str, camera: str, stop: asyncio.Event, counts: dict[str, int]
) -> None:
    """A resident watching `camera` with aiortc, calling again whenever a call ends."""
    from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: PLC0415
    from aiortc.mediastreams import MediaStreamError  # noqa: PLC0415

    # unsafe=True: the jar keeps cookies of an IP-address host (127.0.0.1) only then.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=url, cookie_jar=jar) as http:
        async with http.post(
            "/api/session", json={"username": username, "password": PASSWORD}, headers=SAME_ORIGIN
        ) as response:
            response.raise_for_status()
        while not stop.is_set():
            pc = RTCPeerConnection()
            try:
                pc.addTransceiver("video", direction="recvonly")
                pc.addTransceiver("audio", direction="recvonly")
                tracks: list[Any] = []
                pc.on("track", tracks.append)
                await pc.setLocalDescription(await pc.createOffer())
                async with http.post(
                    f"/api/live/{camera}",
                    json={"sdp": pc.localDescription.sdp},
                    headers=SAME_ORIGIN,
                ) as response:
                    answer = await response.json()
                    if response.status != 201:
                        counts["calls_refused"] += 1
                        await asyncio.sleep(2)
                        continue
                counts["calls"] += 1
                await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
                video = next(t for t in tracks if t.kind == "video")
                while not stop.is_set():
                    recv = asyncio.ensure_future(video.recv())
                    halt = asyncio.ensure_future(stop.wait())
                    done, _ = await asyncio.wait(
                        {recv, halt}, timeout=10, return_when="FIRST_COMPLETED"
                    )
                    halt.cancel()
                    if recv not in done:
                        recv.cancel()
                        with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                            await recv
                        break
                    await recv
                    counts[f"frames_{username}"] += 1
            except MediaStreamError:
                counts["calls_ended"] += 1
            finally:
                await pc.close()


async def camera_events(
    control: dict[str, str],
    names: list[str],
    interval: float,
    stop: asyncio.Event,
    counts: dict[str, int],
) -> None:
    """Motion on, then off, on every camera, one camera after another."""
    headers = {"Authorization": f"Bearer {control['token']}"}
    active = dict.fromkeys(names, False)
    async with aiohttp.ClientSession(base_url=control["url"], headers=headers) as http:
        while not stop.is_set():
            for name in names:
                active[name] = not active[name]
                async with http.post(f"/devices/{name}/motion", json={"active": active[name]}) as r:
                    counts["motion_toggles"] += r.status == 200
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval / len(names))
                if stop.is_set():
                    return


async def sign_in_bursts(
    url: str, burst: int, interval: float, stop: asyncio.Event, counts: dict[str, int]
) -> None:
    """Every `interval` seconds, `burst` wrong-password sign-ins from a few loopback addresses."""
    sessions = [
        aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(local_addr=(ip, 0)))
        for ip in ATTACKERS
    ]
    try:
        while not stop.is_set():

            async def guess(n: int) -> None:
                http = sessions[n % len(sessions)]
                body = {"username": "admin", "password": f"guess-{n}"}
                async with http.post("/api/session", json=body, headers=SAME_ORIGIN) as r:
                    counts[f"signin_{r.status}"] += 1

            await asyncio.gather(*(guess(n) for n in range(burst)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        for http in sessions:
            await http.close()


async def run_load(args: argparse.Namespace) -> None:
    """Child process: drive the load until SIGINT, then print what it did as one JSON line."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    control = json.loads(await asyncio.to_thread(Path(args.control_file).read_text))
    counts: defaultdict[str, int] = defaultdict(int)
    names = args.devices.split(",")
    users = [f"viewer{n}" for n in range(VIEWERS)]
    tasks = [
        *(viewer(args.url, user, f"cam-{n + 1}", stop, counts) for n, user in enumerate(users)),
        camera_events(control, names, args.event_interval, stop, counts),
        sign_in_bursts(args.url, args.signin_burst, args.signin_interval, stop, counts),
    ]
    print("load running", flush=True)
    await asyncio.gather(*tasks)
    print(json.dumps(dict(counts)), flush=True)


# -- the gateway process ---------------------------------------------------------------------


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class LoopLag:
    """How late a short sleep wakes up on this loop, sampled continuously."""

    def __init__(self) -> None:
        self.samples_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="soak:loop-lag")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_TICK_S)
            self.samples_ms.append(max(0.0, (loop.time() - started - LAG_TICK_S) * 1000))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def start_simulator(
    folder: Path,
) -> tuple[asyncio.subprocess.Process, dict[str, str], list[dict[str, Any]]]:
    control_file = folder / "control.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "simulate", "--cameras", str(CAMERAS),
        "--doorbells", "0", "--discovery-port", "0", "--control-file", str(control_file),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + SIMULATOR_START_TIMEOUT_S
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), deadline - time.monotonic())
        if not line:
            raise RuntimeError(f"simulator exited during start-up ({process.returncode})")
        if line.startswith(b"simulator running"):
            break
    control = json.loads(await asyncio.to_thread(control_file.read_text))
    headers = {"Authorization": f"Bearer {control['token']}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{control['url']}/devices", headers=headers) as r,
    ):
        devices = await r.json()
    # Keep reading its output, so a full pipe never blocks the simulator.
    asyncio.create_task(process.stdout.read(), name="soak:simulator-output")  # noqa: RUF006
    return process, control, devices


def gateway_config(devices: list[dict[str, Any]], data_dir: Path) -> Config:
    cameras = []
    for n, device in enumerate(devices):
        onvif = urlsplit(device["onvif"])
        cameras.append({
            "id": f"cam-{n + 1}", "name": device["name"], "driver": "onvif",
            "host": onvif.hostname, "port": onvif.port, "username": device["username"],
            "password": device["password"],
            "options": {"events": "pullpoint"} if n % 2 == 0 else {},
        })  # fmt: skip
    return Config.model_validate({
        "storage": {"data_dir": data_dir},
        "webhooks": {"enabled": True},
        "live": {"host_addresses": ["127.0.0.1"]},
        "recording": {"mode": "off"},  # bench/record.py measures recording
        "cameras": cameras,
    })  # fmt: skip


async def wait_online(app: web.Application) -> None:
    supervisors = app[DEVICES].supervisors
    deadline = time.monotonic() + ONLINE_TIMEOUT_S
    while any(s.state is not CameraState.ONLINE for s in supervisors.values()):
        if time.monotonic() > deadline:
            offline = {
                i: s.reason for i, s in supervisors.items() if s.state is not CameraState.ONLINE
            }
            raise RuntimeError(f"cameras not online after {ONLINE_TIMEOUT_S:.0f} s: {offline}")
        await asyncio.sleep(0.1)


def snapshot(app: web.Application, when: str) -> dict[str, float]:
    return {
        f"rss_mib_{when}": round(rss_mib(), 1),
        f"fds_{when}": open_fds(),
        f"tasks_{when}": len(asyncio.all_tasks()),
        f"live_sessions_{when}": len(app[LIVE].sessions),
    }


async def soak(args: argparse.Namespace) -> dict[str, float]:  # noqa: PLR0915
    folder = Path(tempfile.mkdtemp(prefix="doorstep-soak-"))
    simulator, _, devices = await start_simulator(folder)
    runner: web.AppRunner | None = None
    load: asyncio.subprocess.Process | None = None
    figures: dict[str, float] = {}
    try:
        app = await asyncio.to_thread(build_app, gateway_config(devices, folder / "data"))
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        console = Principal(0, "console", "owner")
        for n in range(VIEWERS):
            user = await app[ACCOUNTS].create_user(
                console, f"viewer{n}", PASSWORD, "resident", "soak"
            )
            await app[ACCOUNTS].update_user(console, user.id, None, None, {f"cam-{n + 1}"}, "soak")
        await wait_online(app)
        lag = LoopLag()
        lag.start()
        load = await asyncio.create_subprocess_exec(
            sys.executable, SCRIPT, "--load-child", "--url", url,
            "--control-file", str(folder / "control.json"),
            "--devices", ",".join(d["name"] for d in devices),
            "--event-interval", str(args.event_interval),
            "--signin-burst", str(args.signin_burst),
            "--signin-interval", str(args.signin_interval),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert load.stdout is not None
        await asyncio.wait_for(load.stdout.readline(), 30)  # "load running"
        await asyncio.sleep(args.warmup)
        lag.samples_ms.clear()
        published = app[BUS].published
        figures.update(snapshot(app, "start"))
        started = time.monotonic()
        await asyncio.sleep(max(0.0, args.minutes * 60 - args.warmup))
        figures.update(snapshot(app, "end"))
        elapsed = time.monotonic() - started
        figures["loop_lag_p99_ms"] = round(p99(lag.samples_ms), 2)
        figures["loop_lag_max_ms"] = round(max(lag.samples_ms, default=0.0), 2)
        figures["events_per_s"] = round((app[BUS].published - published) / elapsed, 1)
        history = next(s for s in app[BUS].stats() if s.name == "history")
        figures["history_dropped_count"] = history.dropped
        figures["events_rate_dropped_count"] = sum(
            s.budget.dropped for s in app[DEVICES].supervisors.values()
        )
        await lag.stop()
        load.send_signal(signal.SIGINT)
        out = await asyncio.wait_for(load.stdout.read(), 30)
        await load.wait()
        counts = json.loads(out.decode().strip().splitlines()[-1])
        frames = [counts.get(f"frames_viewer{n}", 0) for n in range(VIEWERS)]
        figures["viewer_min_fps"] = round(min(frames) / (args.minutes * 60), 1)
        figures["calls_count"] = counts.get("calls", 0)
        figures["calls_refused_count"] = counts.get("calls_refused", 0)
        figures["signins_refused_count"] = counts.get("signin_401", 0) + counts.get("signin_429", 0)
        figures["signins_429_count"] = counts.get("signin_429", 0)
        figures["motion_toggles_count"] = counts.get("motion_toggles", 0)
    finally:
        if load is not None and load.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                load.kill()
            await load.wait()
        if runner is not None:
            await runner.cleanup()
        simulator.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(simulator.wait(), 15)
        except TimeoutError:
            simulator.kill()
            await simulator.wait()
    return figures


UNITS = (("_mib_", "MiB"), ("_ms", "ms"), ("_fps", "fps"), ("_per_s", "/s"))


def unit_of(name: str) -> str:
    for marker, unit in UNITS:
        if marker in f"{name}_":
            return unit
    return "count"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before 'start'")
    parser.add_argument("--event-interval", type=float, default=2.0, help="s per camera toggle")
    parser.add_argument("--signin-burst", type=int, default=40)
    parser.add_argument("--signin-interval", type=float, default=30.0)
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    parser.add_argument("--load-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--control-file", help=argparse.SUPPRESS)
    parser.add_argument("--devices", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_child:
        asyncio.run(run_load(args))
        return
    if args.minutes * 60 <= args.warmup:
        parser.error("--minutes must be longer than --warmup")
    figures = asyncio.run(soak(args))
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name}: {value} {unit_of(name)}")


if __name__ == "__main__":
    main()
