"""Doorbell press→bus latency through the real ONVIF driver, by PullPoint long-poll and by
callbacks (Notify to the gateway's webhook listener), with 1, 16 and 32 simulated doorbells
subscribed, plus the gateway's idle CPU with 32 cameras on each path.

The simulated doorbells run in a separate process (this script started again with
`--simulator-child`: the `doorstep simulate` Simulator and control API, with a short visitor hold
so presses never overlap). The gateway (`build_app`, started with `web.AppRunner`, no listening
socket) runs in this process with every doorbell adopted through the `onvif` driver. Once every
camera is ONLINE and the Initialized burst is drained:

- idle: this process's CPU time (`time.process_time()`, every thread) over `--idle-seconds`,
  as a percentage of one core, in the case with the most cameras: the gateway alone, as the
  simulator's CPU is spent in the other process.
- latency: `--presses` presses, `--interval` seconds apart, rotating over the cameras. Measured
  from just before the bench sends `POST /devices/{name}/press` to the simulator's control API
  to the `received_at` stamp of the CameraEventReceived(doorbell, active, not initial) published
  on the bus, so it includes the control-API hop (one loopback HTTP request) as well as the
  PullMessages answer (or the Notify POST), parsing and normalisation. p50/p99 per camera count
  and path.

Paths: `pullpoint` (driver option `events: pullpoint`) and `webhook` (`webhooks.enabled`).

Usage: python bench/events.py [--cameras 1,16,32] [--presses 50] [--interval 0.5]
                              [--idle-seconds 20] [--path pullpoint,webhook] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.bus.event_bus import Subscription
from doorstep.gateway.config.models import Config
from doorstep.gateway.events import CameraEventReceived, CameraState
from doorstep.gateway.web.keys import BUS, DEVICES
from doorstep.sdk import EventKind
from doorstep.simulator.command import write_control_file
from doorstep.simulator.runner import Simulator, SimulatorConfig

PATHS = ("pullpoint", "webhook")
"""How events reach the gateway. A webhook path (ONVIF base notification) goes here later."""

SIMULATOR_START_TIMEOUT_S = 120.0  # the first start encodes the media library
ONLINE_TIMEOUT_S = 60.0
DRAIN_QUIET_S = 0.5
DRAIN_MAX_S = 30.0
PRESS_TIMEOUT_S = 5.0
PRESS_GAP_S = 2.1
"""Least time between two presses of one doorbell (its budget: 1 event/s, 2 per press)."""
GATEWAY_START_TIMEOUT_S = 30.0
GATEWAY_STOP_TIMEOUT_S = 15.0
SIMULATOR_STOP_TIMEOUT_S = 10.0
USERNAME, PASSWORD = "admin", "doorstep"
SCRIPT = str(Path(__file__).resolve())
"""This file: the simulator child runs it again with `--simulator-child`."""


# -- the simulator process -------------------------------------------------------------------


async def serve_simulator(doorbells: int, hold_s: float, control_file: Path) -> None:
    """Child process: `doorstep simulate --cameras 0 --doorbells N` with a short visitor hold."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    config = SimulatorConfig(cameras=0, doorbells=doorbells, discovery_port=0)
    async with Simulator(config) as simulator:
        for device in simulator.devices.values():
            device.profile.visitor_hold_s = hold_s
        for line in simulator.describe():
            print(line)
        await asyncio.to_thread(write_control_file, control_file, simulator)
        print("simulator running", flush=True)
        await stop.wait()


@dataclass(frozen=True, slots=True)
class SimulatedDoorbell:
    """What the gateway needs to adopt one simulated doorbell."""

    name: str
    port: int


@dataclass(frozen=True, slots=True)
class SimulatorProcess:
    """The running simulator child, its doorbells and its control API."""

    process: asyncio.subprocess.Process
    doorbells: list[SimulatedDoorbell]
    control_url: str
    control_token: str


async def start_simulator(doorbells: int, hold_s: float, workdir: Path) -> SimulatorProcess:
    control_file = workdir / "simulator.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, SCRIPT, "--simulator-child", str(doorbells),
        "--hold-s", str(hold_s), "--control-file", str(control_file),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        found: list[SimulatedDoorbell] = []
        deadline = time.monotonic() + SIMULATOR_START_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            line = (await asyncio.wait_for(process.stdout.readline(), remaining)).decode()
            if not line:
                raise RuntimeError(f"simulator exited during start-up ({process.returncode})")
            match = re.match(r"(\S+)\s+doorbell\s+onvif=(\S+)", line)
            if match:
                port = urlsplit(match.group(2)).port
                assert port is not None, line
                found.append(SimulatedDoorbell(match.group(1), port))
            if line.startswith("simulator running"):
                break
        control = json.loads(await asyncio.to_thread(control_file.read_text))
    except BaseException:
        await stop_simulator(process)
        raise
    if len(found) != doorbells:
        await stop_simulator(process)
        raise RuntimeError(f"simulator reported {len(found)} doorbells, not {doorbells}")
    return SimulatorProcess(process, found, control["url"], control["token"])


async def stop_simulator(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), SIMULATOR_STOP_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await asyncio.wait_for(process.wait(), SIMULATOR_STOP_TIMEOUT_S)


# -- the gateway -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def camera_options(path: str) -> dict[str, Any]:
    """Driver options selecting the event path.

    `events: pullpoint` keeps the driver on PullPoint; the webhook path leaves it out and enables
    `webhooks` in the gateway config, so the driver subscribes for callbacks (Notify).
    """
    if path == "pullpoint":
        return {"events": "pullpoint"}
    if path == "webhook":
        return {}
    raise ValueError(f"event path {path!r} is not implemented")


def gateway_config(doorbells: list[SimulatedDoorbell], data_dir: Path, path: str) -> Config:
    cameras = [
        {
            "id": d.name,
            "name": d.name,
            "driver": "onvif",
            "host": "127.0.0.1",
            "port": d.port,
            "username": USERNAME,
            "password": PASSWORD,
            "options": camera_options(path),
        }
        for d in doorbells
    ]
    return Config.model_validate(
        {
            "storage": {"data_dir": data_dir},
            "server": {"port": free_port()},
            "webhooks": {"enabled": path == "webhook"},
            "recording": {"mode": "off"},  # bench/record.py measures recording
            "cameras": cameras,
        }
    )


class Tap:
    """The bench's subscription to camera events, with each doorbell's last known state."""

    def __init__(self, subscription: Subscription[CameraEventReceived]) -> None:
        self.subscription = subscription
        self.ringing: dict[str, bool] = {}

    async def next(self, wait_s: float) -> CameraEventReceived:
        event = await asyncio.wait_for(self.subscription.get(), wait_s)
        if event.event.kind is EventKind.DOORBELL and event.event.active is not None:
            self.ringing[event.camera_id] = event.event.active
        return event

    async def drain(self) -> int:
        """Read events until none arrives for DRAIN_QUIET_S (bounded by DRAIN_MAX_S)."""
        drained = 0
        deadline = time.monotonic() + DRAIN_MAX_S
        while time.monotonic() < deadline:
            try:
                await self.next(DRAIN_QUIET_S)
            except TimeoutError:
                return drained
            drained += 1
        raise RuntimeError(f"events still arriving after {DRAIN_MAX_S} s of draining")


@contextlib.asynccontextmanager
async def running_gateway(config: Config) -> AsyncIterator[tuple[web.Application, Tap]]:
    app = await asyncio.to_thread(build_app, config)
    taps: list[Tap] = []

    async def attach(app: web.Application) -> AsyncIterator[None]:
        taps.append(Tap(app[BUS].stream("bench", (CameraEventReceived,), 100_000)))
        yield

    app.cleanup_ctx.insert(len(app.cleanup_ctx) - 1, attach)  # just before the cameras start
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    try:
        await asyncio.wait_for(runner.setup(), GATEWAY_START_TIMEOUT_S)
        yield app, taps[0]
    finally:
        await asyncio.wait_for(runner.cleanup(), GATEWAY_STOP_TIMEOUT_S)


async def wait_online(app: web.Application) -> None:
    supervisors = app[DEVICES].supervisors
    deadline = time.monotonic() + ONLINE_TIMEOUT_S
    while True:
        offline = {i: s for i, s in supervisors.items() if s.state is not CameraState.ONLINE}
        if not offline:
            return
        if time.monotonic() > deadline:
            detail = ", ".join(f"{i}: {s.state} ({s.reason})" for i, s in offline.items())
            raise RuntimeError(
                f"{len(offline)}/{len(supervisors)} cameras not online after "
                f"{ONLINE_TIMEOUT_S:.0f} s: {detail}"
            )
        await asyncio.sleep(0.05)


# -- measurements ----------------------------------------------------------------------------


async def measure_idle_cpu(seconds: float) -> float:
    """This process's CPU over `seconds` of doing nothing, in percent of one core."""
    cpu, started = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu) / (time.monotonic() - started) * 100


async def press(http: aiohttp.ClientSession, sim: SimulatorProcess, name: str) -> None:
    async with http.post(
        f"{sim.control_url}/devices/{name}/press",
        headers={"Authorization": f"Bearer {sim.control_token}"},
        timeout=aiohttp.ClientTimeout(total=PRESS_TIMEOUT_S),
    ) as response:
        response.raise_for_status()


async def measure_presses(
    tap: Tap,
    http: aiohttp.ClientSession,
    sim: SimulatorProcess,
    names: list[str],
    presses: int,
    interval: float,
    hold_s: float,
) -> list[float]:
    """Latency (ms) of each press, from sending the control request to the bus publish."""
    latencies_ms: list[float] = []
    last_press: dict[str, float] = {}
    started = time.monotonic()
    for i in range(presses):
        name = names[i % len(names)]
        await asyncio.sleep(max(0.0, started + i * interval - time.monotonic()))
        # The gateway admits one press per camera every 2 s once a burst of 5 is spent (a
        # doorbell's own event budget, issue 11): a faster presser would be dropped, not timed.
        since = time.monotonic() - last_press.get(name, -PRESS_GAP_S)
        await asyncio.sleep(max(0.0, PRESS_GAP_S - since))
        last_press[name] = time.monotonic()
        # A press while the button still reads 'true' sends nothing: wait for the release.
        release_deadline = time.monotonic() + hold_s + PRESS_TIMEOUT_S
        while tap.ringing.get(name):
            await tap.next(max(0.0, release_deadline - time.monotonic()))
        sent = time.time()  # wall clock, like received_at
        await press(http, sim, name)
        deadline = time.monotonic() + PRESS_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = await tap.next(remaining)
            except TimeoutError:
                raise RuntimeError(
                    f"press {i + 1} of {name} did not reach the bus within {PRESS_TIMEOUT_S} s"
                ) from None
            e = event.event
            if (event.camera_id, e.kind, e.active, e.initial) == (
                name, EventKind.DOORBELL, True, False
            ):  # fmt: skip
                latencies_ms.append((event.received_at.timestamp() - sent) * 1000)
                break
    return latencies_ms


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


@dataclass(frozen=True, slots=True)
class Options:
    cameras: list[int]
    presses: int
    interval: float
    idle_seconds: float
    hold_s: float
    paths: list[str]


async def run(options: Options) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
        workdir = Path(tmp)
        sim = await start_simulator(max(options.cameras), options.hold_s, workdir)
        try:
            async with aiohttp.ClientSession(trust_env=False) as http:
                cases = [(path, n) for path in options.paths for n in options.cameras]
                for case, (path, n) in enumerate(cases):
                    doorbells = sim.doorbells[:n]
                    config = gateway_config(doorbells, workdir / f"data-{case}", path)
                    async with running_gateway(config) as (app, tap):
                        await wait_online(app)
                        await tap.drain()
                        if n == max(options.cameras) and options.idle_seconds > 0:
                            figures[f"cpu_pct_idle_{n}_cameras_{path}"] = round(
                                await measure_idle_cpu(options.idle_seconds), 2
                            )
                            await tap.drain()
                        latencies = await measure_presses(
                            tap, http, sim, [d.name for d in doorbells],
                            options.presses, options.interval, options.hold_s,
                        )  # fmt: skip
                    case_name = f"{n}_cameras_{path}"
                    figures[f"p50_ms_{case_name}"] = round(percentile(latencies, 0.50), 2)
                    figures[f"p99_ms_{case_name}"] = round(percentile(latencies, 0.99), 2)
        finally:
            await stop_simulator(sim.process)
    return dict(sorted(figures.items(), key=lambda item: not item[0].startswith("p")))


def event_paths(text: str) -> list[str]:
    paths = [part.strip() for part in text.split(",") if part.strip()]
    if not paths or any(p not in PATHS for p in paths):
        raise argparse.ArgumentTypeError(f"a comma-separated list of {', '.join(PATHS)}")
    return paths


def camera_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("camera counts must be at least 1")
    return counts


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=camera_counts, default=[1, 16, 32])
    parser.add_argument("--presses", type=int, default=50, help="presses per camera count")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between presses")
    parser.add_argument("--idle-seconds", type=float, default=20, help="0 skips the CPU figure")
    parser.add_argument("--hold-s", type=float, default=0.2, help="doorbell visitor hold (s)")
    parser.add_argument(
        "--path", type=event_paths, default=list(PATHS), help="pullpoint,webhook (default both)"
    )
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    parser.add_argument("--simulator-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--control-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulator_child is not None:
        asyncio.run(serve_simulator(args.simulator_child, args.hold_s, args.control_file))
        return
    if args.presses < 1 or args.interval <= 0:
        parser.error("--presses must be at least 1 and --interval positive")
    options = Options(
        args.cameras, args.presses, args.interval, args.idle_seconds, args.hold_s, args.path
    )
    figures = asyncio.run(run(options))
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        unit = "ms" if "_ms_" in name else "%"
        print(f"{name}: {value} {unit}")


if __name__ == "__main__":
    main()
