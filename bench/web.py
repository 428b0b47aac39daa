"""Web API latency: p50/p99 of the events list and the camera list with 100k stored events under
50 concurrent signed-in clients, plus the gateway's CPU% (of one core) and RSS meanwhile.

Setup, all in a temporary directory: a config with 4 disabled RTSP cameras (no network attempts),
a resident account `bench` (via `doorstep user add`) granted all 4 cameras, and 100k events over
the last 30 days written straight into the database before the gateway starts. Then the gateway
runs as a subprocess (`python -m doorstep.gateway run --config …`) and 50 clients, each with its own
session cookie, loop GET /api/events?limit=100 (a quarter of them with &camera=ID) and
GET /api/cameras alternately; 2 s of warm-up are not recorded. Two cases: `think_1000ms`, each
client pausing 0.5–1.5 s between requests like a person using the UI (what "50 signed-in
clients" means for a home gateway), and `think_0ms`, a closed loop with no pause, which only
measures the gateway's ceiling: there, latency is roughly clients ÷ throughput. Latency covers
the request and reading the whole body. Any non-200 answer or failed request is an error: the
figures are still printed, and the exit status is 1.

The clients run in this process on one event loop, so they compete with the gateway for the
machine's cores (2 on the reference box): the latencies include some client-side queueing.

Usage: python bench/web.py [--clients 50] [--events 100000] [--seconds 20] [--think-ms 1000,0]
                          [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from procstat import cpu_seconds, rss_mib  # bench/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent
CAMERAS = ("front-door", "back-yard", "garage", "driveway")
USERNAME = "bench"
PASSWORD = "bench-password-123"  # noqa: S105  # a throwaway account in a temporary directory
WARMUP_S = 2.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 10.0
EVENTS_LIMIT = 100
KINDS = (("motion", 0.80), ("person", 0.15), ("doorbell", 0.05))
TOPICS = {
    "motion": "tns1:RuleEngine/CellMotionDetector/Motion",
    "person": "tns1:RuleEngine/ObjectDetector/Person",
    "doorbell": "tns1:Device/Trigger/DigitalInput",
}
DB_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(path: Path, port: int, data_dir: Path) -> None:
    cameras = [
        {"id": cid, "name": cid.replace("-", " ").title(), "driver": "rtsp",
         "host": "127.0.0.1", "port": 9, "enabled": False}
        for cid in CAMERAS
    ]  # fmt: skip
    config = {"server": {"port": port}, "storage": {"data_dir": str(data_dir)}, "cameras": cameras}
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is valid YAML


async def add_user(data_dir: Path) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "user", "add", USERNAME, "--role", "resident",
        "--data-dir", str(data_dir), env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError("`doorstep user add` did not finish in time") from None
    if process.returncode != 0:
        raise RuntimeError(f"`doorstep user add` failed: {output.decode(errors='replace')}")


def seed_database(db_path: Path, events: int) -> None:
    """Cameras, the resident's grants and `events` events, in one transaction."""
    now = datetime.now(UTC)
    rng = random.Random(42)
    span_s = 30 * 24 * 3600
    offsets = sorted((rng.uniform(0, span_s) for _ in range(events)), reverse=True)
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    rows = []
    for offset in offsets:  # oldest first, so ids grow with time as they do live
        at = (now - timedelta(seconds=offset)).strftime(DB_TIME)
        kind = rng.choices(kinds, weights)[0]
        active = 1 if kind == "doorbell" else rng.randint(0, 1)
        rows.append((rng.choice(CAMERAS), kind, active, 0, at, at, "bench", TOPICS[kind], "{}"))
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        with conn:
            created = now.strftime(DB_TIME)
            conn.executemany(
                """INSERT INTO cameras (id, name, driver, host, port, created_at, enabled)
                   VALUES (?, ?, 'rtsp', '127.0.0.1', 9, ?, 0)""",
                [(cid, cid.replace("-", " ").title(), created) for cid in CAMERAS],
            )
            found = conn.execute("SELECT id FROM users WHERE username = ?", (USERNAME,)).fetchone()
            if found is None:
                raise RuntimeError(f"user {USERNAME!r} was not created")
            conn.executemany(
                "INSERT INTO camera_grants (user_id, camera_id) VALUES (?, ?)",
                [(found[0], cid) for cid in CAMERAS],
            )
            conn.executemany(
                """INSERT INTO events (camera_id, kind, active, initial, occurred_at, received_at,
                                       source, topic, attributes)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
    finally:
        conn.close()


async def start_gateway(
    config: Path, log: Path
) -> tuple[asyncio.subprocess.Process, asyncio.Task[None]]:
    """The gateway subprocess once it says it is running, and the task draining its stdout."""
    with log.open("wb") as stderr:  # the child keeps its own descriptor
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "doorstep.gateway", "run", "--config", str(config), cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
    assert process.stdout is not None
    stdout = process.stdout
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"the gateway did not start in {START_TIMEOUT_S:.0f} s")
            line = await asyncio.wait_for(stdout.readline(), remaining)
            if not line:
                tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-2000:]
                raise RuntimeError(f"the gateway exited before it was running:\n{tail}")
            if b"Doorstep is running" in line:
                break
    except BaseException:
        await stop_gateway(process)
        raise

    async def drain() -> None:  # a full pipe would block the gateway's prints
        while await stdout.read(65536):
            pass

    return process, asyncio.create_task(drain())


async def stop_gateway(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)


@dataclass(slots=True)
class Results:
    """Latencies (ms) recorded in the measured window, and every failure seen."""

    recording: bool = False
    events_ms: list[float] = field(default_factory=list)
    cameras_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def sign_in(session: aiohttp.ClientSession, base: str) -> None:
    async with session.post(
        f"{base}/api/session",
        json={"username": USERNAME, "password": PASSWORD},
        headers={"Sec-Fetch-Site": "same-origin"},
    ) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"sign-in failed: {response.status} {body[:200]!r}")


async def check_answers(session: aiohttp.ClientSession, base: str) -> None:
    """The data the bench measures is what it meant to set up."""
    async with session.get(f"{base}/api/events?limit={EVENTS_LIMIT}") as response:
        events = (await response.json())["events"]
    async with session.get(f"{base}/api/cameras") as response:
        cameras = (await response.json())["cameras"]
    if len(events) != EVENTS_LIMIT or len(cameras) != len(CAMERAS):
        raise RuntimeError(f"expected {EVENTS_LIMIT} events and {len(CAMERAS)} cameras, got "
                           f"{len(events)} and {len(cameras)}")  # fmt: skip


async def worker(
    session: aiohttp.ClientSession,
    base: str,
    results: Results,
    stop: asyncio.Event,
    seed: int,
    think_s: float,
) -> None:
    rng = random.Random(seed)
    events_next = rng.random() < 0.5  # half the clients start with the other endpoint
    while not stop.is_set():
        if events_next:
            url = f"{base}/api/events?limit={EVENTS_LIMIT}"
            if rng.random() < 0.25:
                url += f"&camera={rng.choice(CAMERAS)}"
            latencies = results.events_ms
        else:
            url, latencies = f"{base}/api/cameras", results.cameras_ms
        events_next = not events_next
        recording = results.recording
        started = time.perf_counter()
        try:
            async with session.get(url) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            results.errors.append(f"GET {url}: {type(exc).__name__}: {exc}")
            await asyncio.sleep(0.1)  # no busy loop against a dead gateway
            continue
        elapsed_ms = (time.perf_counter() - started) * 1000
        if status != 200:
            results.errors.append(f"GET {url}: HTTP {status}")
        elif recording and results.recording:  # the whole request inside the window
            latencies.append(elapsed_ms)
        if think_s > 0:  # a person reading the page before the next click
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)


async def load(
    base: str, pid: int, clients: int, seconds: float, think_s: float
) -> tuple[Results, float, float]:
    """Run the clients; returns the results, the window's length and the gateway's CPU seconds."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    sessions = [
        # unsafe=True: the jar otherwise refuses cookies set by an IP address (127.0.0.1)
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=timeout)
        for _ in range(clients)
    ]
    results, stop = Results(), asyncio.Event()
    try:
        # One at a time: sign-in is throttled per address (five attempts in flight at most),
        # and every client here comes from 127.0.0.1.
        for session in sessions:
            await sign_in(session, base)
        await check_answers(sessions[0], base)
        workers = [
            asyncio.create_task(worker(s, base, results, stop, seed, think_s))
            for seed, s in enumerate(sessions)
        ]
        await asyncio.sleep(WARMUP_S)
        results.recording = True
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(seconds)
        results.recording = False
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
        stop.set()
        done, pending = await asyncio.wait(workers, timeout=REQUEST_TIMEOUT_S + 5)
        for task in pending:
            task.cancel()
        for task in done:
            if task.exception() is not None:
                results.errors.append(f"worker crashed: {task.exception()!r}")
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    return results, elapsed, cpu


async def run(
    clients: int, events: int, seconds: float, thinks_ms: list[int]
) -> tuple[dict[str, float], list[str]]:
    figures: dict[str, float] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-web-") as tmp:
        root = Path(tmp)
        data_dir, config = root / "data", root / "config.yaml"
        port = free_port()
        write_config(config, port, data_dir)
        await add_user(data_dir)
        await asyncio.to_thread(seed_database, data_dir / "doorstep.db", events)
        process, drain = await start_gateway(config, root / "gateway.log")
        try:
            for think_ms in thinks_ms:
                results, elapsed, cpu = await load(
                    f"http://127.0.0.1:{port}", process.pid, clients, seconds, think_ms / 1000
                )
                if not results.events_ms or not results.cameras_ms:
                    raise RuntimeError(f"no successful requests; errors: {results.errors[:5]}")
                errors += results.errors
                case = f"{clients}_clients_think_{think_ms}ms"
                figures |= {
                    f"p50_ms_events_list_{case}": round(percentile(results.events_ms, 0.50), 2),
                    f"p99_ms_events_list_{case}": round(percentile(results.events_ms, 0.99), 2),
                    f"p50_ms_camera_list_{case}": round(percentile(results.cameras_ms, 0.50), 2),
                    f"p99_ms_camera_list_{case}": round(percentile(results.cameras_ms, 0.99), 2),
                    f"requests_per_s_{case}": round(
                        (len(results.events_ms) + len(results.cameras_ms)) / elapsed, 1
                    ),
                    f"cpu_pct_gateway_{case}": round(cpu / elapsed * 100, 1),
                }
            figures["rss_mib_gateway"] = round(rss_mib(process.pid), 1)
        finally:
            await stop_gateway(process)
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
    return figures, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--think-ms", default="1000,0",
        help="pause between a client's requests, per case: 1000 is a person using the UI, "
        "0 a closed loop that measures the gateway's ceiling",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args()
    thinks = [int(t) for t in args.think_ms.split(",") if t.strip()]
    figures, errors = asyncio.run(run(args.clients, args.events, args.seconds, thinks))
    if args.json:
        print(json.dumps(figures))
    else:
        units = {"p50_ms": "ms", "p99_ms": "ms", "requests_per_s": "req/s", "cpu_pct": "%",
                 "rss_mib": "MiB"}  # fmt: skip
        for name, value in figures.items():
            unit = next(u for prefix, u in units.items() if name.startswith(prefix))
            print(f"{name}: {value} {unit}")
    if errors:
        print(f"{len(errors)} failed request(s), e.g.:", file=sys.stderr)
        for error in errors[:5]:
            print(f"  {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
