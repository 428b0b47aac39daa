"""Faults on the ONVIF HTTP path between a supervised camera and the gateway: blackhole, reset,
half-open and throttle. Once healed the camera is back online and its events flow again within
SECURITY.md's 15 s, and nothing is leaked: no task, socket or file descriptor."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable

import pytest

from doorstep.gateway.events import CameraState
from doorstep.gateway.web.keys import DEVICES
from doorstep.sdk import EventKind
from doorstep.simulator import SimulatedDevice

from ..integration.conftest import Gateway, StartGateway, camera_entry, start_gateway  # noqa: F401
from .conftest import live_tasks, open_fds, settle
from .proxy import FaultProxy

FAULT_S = 12.0  # longer than one long-poll's wait (15 s by default) is not needed
LONG_POLL_S = 15.0  # the driver's PullMessages wait: a quarter of motion's 60 s auto-clear
RESUME_S = 15.0  # SECURITY.md: events resume at most 15 s after the camera answers again
FAULTS: dict[str, Callable[[FaultProxy], None]] = {
    "blackhole": FaultProxy.blackhole,
    "reset": FaultProxy.reset,
    "half_open": FaultProxy.half_open,
    "throttle": lambda proxy: proxy.throttle(200),
}


async def motion_reaches_the_bus(gateway: Gateway, camera: SimulatedDevice, within: float) -> bool:
    """Toggle motion every half second until a motion event of the camera is on the bus."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    active = True
    while loop.time() < deadline:
        camera.set_property("motion", active)
        active = not active
        try:
            event = await gateway.next_event(timeout=0.5, camera=camera.profile.name)
        except TimeoutError:
            continue
        if event.event.kind is EventKind.MOTION and not event.event.initial:
            return True
    return False


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_supervised_camera_recovers_and_leaks_nothing(
    fault: str,
    camera: SimulatedDevice,
    start_gateway: StartGateway,  # noqa: F811
) -> None:
    proxy = FaultProxy(camera.profile.host, camera.profile.onvif_port)
    port = await proxy.start()
    camera.advertised_onvif_port = port  # every XAddr and subscription address: the proxy
    gc.collect()
    baseline = live_tasks(), open_fds()
    gateway = await start_gateway(
        [camera_entry(camera, port=port, options={"events": "pullpoint"})],
        supervisor={"backoff_initial_s": 1.0},
    )
    name = camera.profile.name
    await gateway.state(name, CameraState.ONLINE)
    await gateway.drain()
    assert await motion_reaches_the_bus(gateway, camera, 15)
    accepted = proxy.accepted
    FAULTS[fault](proxy)
    await asyncio.sleep(FAULT_S)
    supervisor = gateway.app[DEVICES].supervisors[name]
    during = supervisor.state
    proxy.heal()
    healed = time.monotonic()
    await gateway.drain(0.1)
    resumed = await motion_reaches_the_bus(gateway, camera, 60)
    resume_s = time.monotonic() - healed
    assert supervisor.state is CameraState.ONLINE, supervisor.reason
    await gateway.client.close()  # stops the gateway
    await proxy.stop()
    # The simulated camera answers a long-poll it was holding when its wait ends (aiohttp does
    # not cancel a handler whose client left): the count settles after one wait at the most.
    tasks, fds = await settle(baseline, timeout=LONG_POLL_S + 10)
    print(f"{fault}: state during the fault {during.value}; events again {resume_s:.1f} s after "
          f"the heal; {proxy.accepted - accepted} connections since the fault; "
          f"tasks {baseline[0]}→{tasks}, fds {baseline[1]}→{fds}")  # fmt: skip
    assert proxy.accepted > accepted  # the gateway came through the proxy, not around it
    assert resumed
    assert resume_s <= RESUME_S, resume_s
    assert tasks <= baseline[0], (tasks, baseline)
    assert fds <= baseline[1], (fds, baseline)
