"""Faults on the wire between the hub and a camera's RTSP server: delay, blackhole, reset,
half-open and throttle. After each is healed frames flow again, and nothing is leaked: no task,
no socket, no file descriptor."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

import pytest

from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.simulator import SimulatedDevice

from ..media.probes import FrameCounter, wait_until
from .conftest import live_tasks, open_fds, settle
from .proxy import FaultProxy

FAULT_S = 4.0
RATE = 15  # the simulator's frames per second
FAULTS: dict[str, Callable[[FaultProxy], None]] = {
    "delay": lambda proxy: proxy.delay(0.5),
    "blackhole": FaultProxy.blackhole,
    "reset": FaultProxy.reset,
    "half_open": FaultProxy.half_open,
    "throttle": lambda proxy: proxy.throttle(2000),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_the_stream_recovers_and_leaks_nothing(
    fault: str, camera: SimulatedDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_module, "RTSP_TIMEOUT_S", 2.0)
    monkeypatch.setattr(hub_module, "VIDEO_TIMEOUT_S", 2.0)
    proxy = FaultProxy(camera.profile.host, camera.profile.rtsp_port)
    port = await proxy.start()
    url = f"rtsp://127.0.0.1:{port}/stream/main"
    credentials = camera.profile.username, camera.profile.password
    gc.collect()
    baseline = live_tasks(), open_fds()
    hub = StreamHub()
    stream = hub.stream("camera-1/main", lambda: StreamTarget(url, *credentials))
    async with FrameCounter(stream.consume()) as viewer:
        assert await wait_until(lambda: viewer.count >= 5, 15)
        before = viewer.count
        FAULTS[fault](proxy)
        await asyncio.sleep(FAULT_S)
        during = viewer.count - before
        if fault not in ("delay", "throttle"):  # on a loaded machine noticing may take longer
            await wait_until(lambda: stream.failures >= 1, 20)
        noticed = stream.failures
        proxy.heal()
        healed = viewer.count
        # Frames flow again: a second's worth, including a keyframe to start decoding from.
        keyframes = viewer.keyframes
        assert await wait_until(
            lambda: viewer.count >= healed + 15 and viewer.keyframes > keyframes, 40
        )
    await hub.close()
    await proxy.stop()
    tasks, fds = await settle(baseline)
    print(f"{fault}: {during} frames during the fault, {stream.sessions_opened} sessions, "
          f"tasks {baseline[0]}→{tasks}, fds {baseline[1]}→{fds}")  # fmt: skip
    assert tasks <= baseline[0], (tasks, baseline)
    assert fds <= baseline[1], (fds, baseline)
    if fault == "delay":
        assert during > 0  # a slow wire is still a wire
    elif fault == "throttle":
        assert during < 0.5 * RATE * FAULT_S  # the fault bit (a session may ride it out)
    else:
        assert noticed >= 1  # the dead session was noticed during the fault
        assert stream.sessions_opened >= 2  # and replaced once healed
