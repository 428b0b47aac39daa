"""Recording in the whole gateway: a doorbell press on the simulator becomes a registered clip
with its events, its poster and its pre-roll, through ONVIF events, the bus and the hub."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.recording.poster import poster_path
from doorstep.gateway.recording.service import CLIPS_DIR
from doorstep.gateway.storage import ClipQuery
from doorstep.gateway.web.keys import RECORDING, STORAGE, STREAMS
from doorstep.simulator import SimulatedDevice, Simulator

from ..gateway_client import doorbell_config, until_online
from ..media.probes import wait_until
from .clips import decode_clip


def recording_config(simulator: Simulator, data_dir: Path, **recording: Any) -> Config:
    config = doorbell_config(simulator, data_dir)
    return config.model_copy(update={"recording": config.recording.model_copy(update=recording)})


async def test_a_doorbell_press_becomes_a_clip_with_its_event_and_poster(
    simulator: Simulator, doorbell: SimulatedDevice, tmp_path: Path, aiohttp_server: Any
) -> None:
    config = recording_config(
        simulator, tmp_path / "data", mode="events", preroll_s=3.0, postroll_s=2.0
    )
    app: web.Application = await asyncio.to_thread(build_app, config)
    await aiohttp_server(app)
    await until_online(app, "front")
    recorder = app[RECORDING].recorders["front"]
    assert await wait_until(lambda: recorder._preroll.bytes > 0, 10)
    await asyncio.sleep(3.5)  # the pre-roll fills
    pressed = time.time()
    assert doorbell.press()
    storage = app[STORAGE]

    async def clips() -> list[Any]:
        return await storage.clips.find(ClipQuery(cameras=["front"]))

    for _ in range(200):
        found = await clips()
        if found and found[0].poster:
            break
        await asyncio.sleep(0.1)
    [clip] = found
    assert clip.poster
    assert "doorbell" in clip.kinds
    assert clip.started_at.timestamp() <= pressed - 2.5
    assert clip.ended_at is not None
    assert clip.ended_at.timestamp() >= pressed + 2.0
    assert await storage.clips.event_ids(clip.id)  # the press is linked to its clip
    stream = app[STREAMS].get("front/main")
    assert stream is not None
    assert stream.sessions_opened == 1
    path = config.storage.data_dir / CLIPS_DIR / clip.path
    decoded = await asyncio.to_thread(decode_clip, path)
    assert decoded.errors == 0
    assert decoded.frames == clip.frames
    assert poster_path(path).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
