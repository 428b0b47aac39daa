"""`doorstep simulate` (run simulated devices) and `doorstep simctl` (drive them)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from doorstep.simulator.eventing import Dialect
from doorstep.simulator.profile import Quirk

if TYPE_CHECKING:  # the runner (aiohttp, media) loads only to run devices: simctl stays quick
    from doorstep.simulator.runner import Simulator, SimulatorConfig

RESOLUTIONS = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080)}
ACTIONS = ("list", "press", "motion-start", "motion-stop", "person-start", "person-stop", "reboot",
           "clock", "slow", "hostile", "backchannel")  # fmt: skip


def _within(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from low to high."""

    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return number

    return parse


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `doorstep simulate`."""
    parser.add_argument("--cameras", type=int, default=1, help="number of cameras (default 1)")
    parser.add_argument("--doorbells", type=int, default=1, help="number of doorbells (default 1)")
    parser.add_argument("--resolution", choices=sorted(RESOLUTIONS), default="360p")
    parser.add_argument(
        "--fps", type=_within(1, 60), default=15, help="main-stream frame rate (default 15)"
    )
    parser.add_argument(
        "--bitrate",
        type=_within(64, 20_000),
        metavar="KBIT/S",
        help="main-stream bitrate, as a camera would be set (default: the test pattern's own)",
    )
    parser.add_argument(
        "--dialect", choices=[d.value for d in Dialect], default=Dialect.STANDARD.value
    )
    parser.add_argument("--person-detection", action="store_true", help="also send person events")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--base-port", type=int, default=0, help="first TCP port (default: any free)"
    )
    parser.add_argument(
        "--control-port", type=int, default=0, help="control API port (default: any)"
    )
    parser.add_argument("--discovery-port", type=int, default=3702, help="WS-Discovery UDP port")
    parser.add_argument("--multicast", action="store_true", help="also join the WS-Discovery group")
    parser.add_argument("--password", default="doorstep", help="password of every device")
    parser.add_argument("--control-file", type=Path, help="write the control URL and token here")
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        choices=[q.value for q in Quirk],
        metavar="NAME",
        help="behave like a real device with this quirk (repeatable): "
        + ", ".join(q.value for q in Quirk),
    )


def simulator_config(args: argparse.Namespace) -> SimulatorConfig:
    """The simulator configuration the command line asks for."""
    from doorstep.simulator.runner import SimulatorConfig  # noqa: PLC0415  # see TYPE_CHECKING

    width, height = RESOLUTIONS[args.resolution]
    return SimulatorConfig(
        cameras=args.cameras,
        doorbells=args.doorbells,
        host=args.host,
        base_port=args.base_port,
        width=width,
        height=height,
        fps=args.fps,
        bitrate_kbps=args.bitrate,
        dialect=Dialect(args.dialect),
        person_detection=args.person_detection,
        password=args.password,
        control_port=args.control_port,
        discovery_port=args.discovery_port,
        multicast=args.multicast,
        quirks=frozenset(Quirk(name) for name in args.quirk),
    )


def write_control_file(path: Path, simulator: Simulator) -> None:
    """Save where and how to reach the control API, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": simulator.control_url, "token": simulator.control_token}, fh)


async def _simulate(config: SimulatorConfig, control_file: Path | None) -> None:
    from doorstep.simulator.runner import Simulator  # noqa: PLC0415  # see TYPE_CHECKING

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Simulator(config) as simulator:
        for line in simulator.describe():
            print(line)
        print(f"control:     {simulator.control_url}  token={simulator.control_token}")
        print(f"discovery:   udp://{config.host}:{simulator.discovery_port}")
        if control_file is not None:
            await asyncio.to_thread(write_control_file, control_file, simulator)
        print("simulator running; Ctrl-C stops it", flush=True)
        await stop.wait()


def run_simulate(args: argparse.Namespace) -> int:
    """Run simulated devices until Ctrl-C."""
    if args.cameras < 0 or args.doorbells < 0 or args.cameras + args.doorbells == 0:
        print("doorstep simulate: need at least one camera or doorbell", file=sys.stderr)
        return 2
    asyncio.run(_simulate(simulator_config(args), args.control_file))
    return 0


def add_simctl_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `doorstep simctl`."""
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("device", nargs="?", help="device name, e.g. doorbell-1")
    parser.add_argument("value", nargs="?", help="seconds for reboot/clock/slow; mode for hostile")
    parser.add_argument("--control-file", type=Path, default=Path(".demo/simulator.json"))
    parser.add_argument("--url", help="control URL (instead of --control-file)")
    parser.add_argument(
        "--token", default=os.environ.get("DOORSTEP_SIM_TOKEN"), help="control token"
    )


def _request_for(args: argparse.Namespace) -> tuple[str, str, dict[str, object] | None]:
    if args.action == "list":
        return "GET", "/devices", None
    if not args.device:
        raise ValueError(f"{args.action} needs a device name")
    base = f"/devices/{args.device}"
    number = (
        float(args.value) if args.value and args.action in ("reboot", "clock", "slow") else None
    )
    simple: dict[str, tuple[str, str, dict[str, object] | None]] = {
        "press": ("POST", f"{base}/press", None),
        "motion-start": ("POST", f"{base}/motion", {"active": True}),
        "motion-stop": ("POST", f"{base}/motion", {"active": False}),
        "person-start": ("POST", f"{base}/person", {"active": True}),
        "person-stop": ("POST", f"{base}/person", {"active": False}),
        "reboot": ("POST", f"{base}/reboot", {"down_s": number} if number is not None else None),
        "clock": ("POST", f"{base}/clock", {"skew_s": number or 0.0}),
        "slow": ("POST", f"{base}/slow", {"delay_s": number or 0.0}),
        "hostile": ("POST", f"{base}/hostile", {"mode": args.value}),
        "backchannel": ("GET", f"{base}/backchannel", None),
    }
    return simple[args.action]


def run_simctl(args: argparse.Namespace) -> int:
    """Send one control request and print the answer."""
    url, token = args.url, args.token
    if url is None:
        try:
            saved = json.loads(args.control_file.read_text())
        except (OSError, ValueError) as exc:
            print(f"doorstep simctl: cannot read {args.control_file}: {exc}", file=sys.stderr)
            return 2
        url, token = saved["url"], token or saved["token"]
    try:
        method, path, body = _request_for(args)
    except ValueError as exc:
        print(f"doorstep simctl: {exc}", file=sys.stderr)
        return 2
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310  # the control URL is loopback http
        url + path, data=data, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            print(response.read().decode())
    except urllib.error.HTTPError as exc:
        print(f"doorstep simctl: {exc.code} {exc.reason}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"doorstep simctl: cannot reach {url}: {exc.reason}", file=sys.stderr)
        return 1
    return 0
