"""Sharing, measured: the time to make a share's copy of a 60 s 1080p30 clip (remux only, and
with two privacy masks, which re-encodes), as a ratio of the clip's duration; and the public
media route with 20 concurrent viewers of one share: the throughput and the time to the first
byte when all 20 fetch the video whole as fast as they can, and the p50/p99 latency of the
Range requests of 20 viewers playing it at its bit rate.

The master is written as the recorder writes it (Doorstep's fMP4, one fragment per second) from
the simulator's 1080p30 test pattern at 4 Mbit/s (10 s encoded once, looped to 60 s). The
gateway (`build_app`, served on 127.0.0.1) runs in this process; the viewers are aiohttp
clients in this process too, each from its own loopback address (127.0.0.2…21), opening the
share's link (one view each) and then fetching its video whole, again and again.

Usage: python bench/share.py [--viewers 20] [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.auth.principal import Principal
from doorstep.gateway.config.models import Config
from doorstep.gateway.recording.clip_file import ClipFile
from doorstep.gateway.recording.frames import Frame
from doorstep.gateway.recording.recorder import clip_path, video_track
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.recording.timeline import ClipTimeline
from doorstep.gateway.sharing.derive import DeriveJob, derive
from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.sharing.specs import ItemSpec, NewShare
from doorstep.gateway.storage import ClipRecord
from doorstep.gateway.web.keys import SHARES, STORAGE
from doorstep.protocols.h264 import AccessUnit
from doorstep.simulator.media import encode_video_loop

FPS, SECONDS, LOOP_S = 30, 60, 10
MASKS = (Mask(0.05, 0.05, 0.3, 0.3, "black"), Mask(0.6, 0.5, 0.3, 0.35, "blur"))
UNITS = {"s": "s", "ratio": "x", "mb": "MB/s", "p50": "ms", "p99": "ms", "count": "count"}
CLIP_ID = "B" * 22
RANGE_BYTES = 256 * 1024
PACE_S = 0.5  # 256 KiB every half second: 4 Mbit/s, the clip's bit rate
STARTED = datetime(2026, 11, 30, 20, 15, tzinfo=UTC)


def write_master(root: Path) -> Path:
    """A 60 s 1080p30 clip at 4 Mbit/s as the recorder writes it (blocking)."""
    loop = encode_video_loop(1920, 1080, FPS, seconds=LOOP_S, bitrate_kbps=4000)
    file = ClipFile(root, clip_path("front", "events", STARTED, CLIP_ID))
    frames = []
    for i in range(FPS * SECONDS):
        source = loop.frames[i % len(loop.frames)]
        data = b"".join(b"\x00\x00\x00\x01" + n for n in source.nals)
        frames.append(Frame(AccessUnit(data, i * 3000, source.keyframe), i / FPS, 100 + i / FPS))
    found = video_track(frames[0].unit.data)
    assert found is not None
    file.open(found[0], None, frames[0].at)
    timeline = ClipTimeline()
    for frame in frames:
        if (job := timeline.add(frame)) is not None:
            file.write(job)
    last = timeline.finish()
    assert last is not None
    file.write(last)
    return file.close().path


def derive_times(master: Path, out: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, masks in (("remux", ()), ("masked", MASKS)):
        started = time.perf_counter()
        derive(DeriveJob(master, out / f"{name}.mp4", out / f"{name}.jpg", masks=masks))
        took = time.perf_counter() - started
        figures[f"s_derive_{name}_60s_1080p"] = round(took, 2)
        figures[f"ratio_derive_{name}_60s_1080p"] = round(took / SECONDS, 3)
    return figures


async def viewer(url: str, link: str, address: str, until: float, paced: bool,
                 took: list[float], moved: list[int]) -> None:  # fmt: skip
    """One viewer: opens the link (a view), then either fetches the whole video again and again
    as fast as it can (`paced=False`: throughput; `took` gets the time to the first byte), or
    plays it as a player does at the clip's bit rate: a 256 KiB Range request every 0.5 s
    (`took` gets each request's whole time)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(url, connector=connector) as session:
        async with session.get(f"/api/{link}") as response:
            assert response.status == 200, response.status
            video = (await response.json())["items"][0]["video"]
        offset = 0
        while time.monotonic() < until:
            started = time.perf_counter()
            if paced:
                end = offset + RANGE_BYTES - 1
                async with session.get(video, headers={"Range": f"bytes={offset}-{end}"}) as r:
                    assert r.status == 206, r.status
                    moved[0] += len(await r.read())
                took.append(time.perf_counter() - started)
                offset = (offset + RANGE_BYTES) % (20 * RANGE_BYTES * 10)
                await asyncio.sleep(max(0.0, PACE_S - (time.perf_counter() - started)))
                continue
            async with session.get(video) as r:
                assert r.status == 200, r.status
                first = True
                async for chunk in r.content.iter_chunked(1 << 20):
                    if first:
                        took.append(time.perf_counter() - started)
                        first = False
                    moved[0] += len(chunk)


async def media_route(
    data_dir: Path, master: Path, viewers: int, seconds: float
) -> dict[str, float]:
    camera = {
        "id": "front",
        "name": "Front",
        "driver": "rtsp",
        "host": "127.0.0.1",
        "port": 9,
        "enabled": False,
    }  # the clip's camera (disabled: never contacted)
    config = Config.model_validate(
        {"storage": {"data_dir": data_dir}, "recording": {"mode": "off"}, "cameras": [camera]}
    )
    app: web.Application = await asyncio.to_thread(build_app, config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        root = data_dir / CLIPS_DIR
        if await app[STORAGE].clips.get(CLIP_ID) is None:  # the start-up pass registers it
            size = (await asyncio.to_thread(master.stat)).st_size
            await app[STORAGE].clips.add(ClipRecord(
                CLIP_ID, "front", master.relative_to(root).as_posix(), STARTED,
                STARTED + timedelta(seconds=SECONDS), size_bytes=size,
                duration_ms=SECONDS * 1000, frames=FPS * SECONDS,
            ))  # fmt: skip
        shares = app[SHARES]
        state, token = await shares.create(NewShare("Bench", "other", (ItemSpec(CLIP_ID),)),
                                           Principal(0, "bench", "owner").username, "")  # fmt: skip
        for _ in range(600):  # the copy is made on its worker thread (a few seconds)
            made = await shares.get(state.record.id)
            if made is not None and made.status != "preparing":
                break
            await asyncio.sleep(0.1)
        url, link = f"http://127.0.0.1:{port}", f"s/{token}"

        def p(values: list[float], q: int) -> float:
            return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 2)

        figures: dict[str, float] = {}
        for paced in (False, True):
            took: list[float] = []
            moved = [0]
            started = time.monotonic()
            until = started + seconds
            await asyncio.gather(*(viewer(url, link, f"127.0.0.{2 + n}", until, paced, took,
                                          moved) for n in range(viewers)))  # fmt: skip
            elapsed = time.monotonic() - started
            if paced:
                figures[f"p50_ms_range_256k_{viewers}_viewers_playing"] = p(took, 50)
                figures[f"p99_ms_range_256k_{viewers}_viewers_playing"] = p(took, 99)
                figures[f"count_requests_{viewers}_viewers_playing"] = len(took)
            else:
                figures[f"mb_per_s_public_media_{viewers}_viewers"] = round(
                    moved[0] / elapsed / 1e6, 1
                )
                figures[f"p50_ms_first_byte_{viewers}_viewers_saturating"] = p(took, 50)
                figures[f"p99_ms_first_byte_{viewers}_viewers_saturating"] = p(took, 99)
        return figures
    finally:
        await runner.cleanup()


async def measure(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory) / "data"
        master = await asyncio.to_thread(write_master, data_dir / CLIPS_DIR)
        out = Path(directory) / "copies"
        out.mkdir()
        figures = await asyncio.to_thread(derive_times, master, out)
        figures |= await media_route(data_dir, master, args.viewers, args.seconds)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="one flat JSON object")
    args = parser.parse_args()
    figures = asyncio.run(measure(args))
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        unit = UNITS.get(name.split("_")[0], "")
        print(f"{name}: {value} {unit}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
