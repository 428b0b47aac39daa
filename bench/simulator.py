"""Simulator cost: CPU% (of one core) and RSS of `doorstep simulate` serving N cameras at 640x360,
each read by one RTSP client (the gateway's own), measured from /proc over a fixed window.

Usage: python bench/simulator.py [--cameras 8] [--seconds 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import time

from procstat import cpu_seconds, rss_mib  # bench/ is on sys.path when run as a script

from doorstep.protocols.rtp import parse_rtp
from doorstep.protocols.rtsp_client import RtspClient


async def read_stream(url: str, frames: list[int], stop: asyncio.Event) -> None:
    async with RtspClient(url, "admin", "doorstep") as client:
        media = await client.describe()
        for index, section in enumerate(media):
            await client.setup(section, 2 * index)
        await client.play()
        slot = len(frames)
        frames.append(0)
        while not stop.is_set():
            with contextlib.suppress(Exception):
                channel, data = await client.packet(wait_s=1)
                if channel == 0 and parse_rtp(data).marker:
                    frames[slot] += 1


async def run(cameras: int, seconds: float) -> dict[str, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "doorstep.gateway", "simulate", "--cameras", str(cameras),
        "--doorbells", "0", "--discovery-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    urls: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        found = re.search(r"rtsp=(\S+)", line)
        if found:
            urls.append(found.group(1))
        if "simulator running" in line or not line:
            break
    stop = asyncio.Event()
    frames: list[int] = []
    readers = [asyncio.create_task(read_stream(url, frames, stop)) for url in urls]
    await asyncio.sleep(3)  # warm-up: sessions set up, pacing steady
    cpu_before, started = cpu_seconds(process.pid), time.monotonic()
    frames_before = sum(frames)
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    cpu = (cpu_seconds(process.pid) - cpu_before) / elapsed * 100
    fps = (sum(frames) - frames_before) / elapsed / max(1, len(urls))
    rss = rss_mib(process.pid)
    stop.set()
    await asyncio.gather(*readers, return_exceptions=True)
    process.send_signal(signal.SIGINT)
    await process.wait()
    return {
        f"cpu_pct_{cameras}_cameras_1_reader_each": round(cpu, 2),
        f"rss_mib_{cameras}_cameras": round(rss, 1),
        "video_fps_per_reader": round(fps, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args()
    figures = asyncio.run(run(args.cameras, args.seconds))
    if args.json:
        print(json.dumps(figures))
        return
    units = {"cpu_pct": "%", "rss_mib": "MiB", "video_fps": "fps"}
    for name, value in figures.items():
        unit = next(u for prefix, u in units.items() if name.startswith(prefix))
        print(f"{name}: {value} {unit}")


if __name__ == "__main__":
    main()
