"""No HTTP session of onvif-zeep-async outlives an OnvifSession's close(), whatever is cancelled
when (an unclosed one is a ResourceWarning, an error in this suite, and a leak in a gateway)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from doorstep.drivers.onvif import session as session_module
from doorstep.drivers.onvif.device import OnvifDevice
from doorstep.drivers.onvif.session import OnvifSession
from doorstep.sdk import DriverContext
from doorstep.simulator import SimulatedDevice

from .conftest import device_config


def open_sessions(session: OnvifSession) -> list[str]:
    """The library's HTTP sessions of `session` still open, by service."""
    camera = session._camera
    still = ["snapshot"] if not camera._snapshot_client.closed else []
    return still + [name for name, s in camera.services.items() if not s._session.closed]


def new_session(camera: SimulatedDevice) -> OnvifSession:
    p = camera.profile
    log = logging.getLogger("doorstep.drivers.onvif")
    return OnvifSession(p.host, p.onvif_port, p.username, p.password, log)


async def test_a_service_created_after_close_is_closed_when_it_is_ready(
    camera: SimulatedDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "CREATION_WAIT_S", 0.0)  # close() does not wait for it
    session = new_session(camera)
    await session.open()
    creating = asyncio.ensure_future(session._service(session._camera.create_media_service))
    await asyncio.sleep(0)
    await session.close()
    await asyncio.wait_for(creating, 10)  # the creation finishes after the close...
    for _ in range(100):
        if not open_sessions(session):
            break
        await asyncio.sleep(0.01)
    assert open_sessions(session) == []  # ...and its session was closed then
    assert len(session._camera.services) >= 2  # device management and media were both made


async def test_a_close_whose_caller_is_cancelled_still_closes_everything(
    camera: SimulatedDevice,
) -> None:
    session = new_session(camera)
    await session.open()
    assert open_sessions(session)
    closing = asyncio.ensure_future(session.close())
    await asyncio.sleep(0)
    closing.cancel()  # a supervisor's close budget ran out, or shutdown cancelled it
    with pytest.raises(asyncio.CancelledError):
        await closing
    for _ in range(100):
        if not open_sessions(session):
            break
        await asyncio.sleep(0.01)
    assert open_sessions(session) == []


async def test_a_connect_cancelled_while_finding_the_services_leaks_nothing(
    camera: SimulatedDevice, context: DriverContext
) -> None:
    camera.slow_s = 0.3  # each SOAP answer takes a while: the cancel lands mid-request
    device = OnvifDevice(device_config(camera), context)
    connecting = asyncio.ensure_future(device.connect())
    for _ in range(100):
        if device._session is not None:
            break
        await asyncio.sleep(0.01)
    session = device._session
    assert session is not None
    await asyncio.sleep(0.1)
    connecting.cancel()  # the supervisor stops while the camera is being asked for its services
    with pytest.raises(asyncio.CancelledError):
        await connecting
    await device.close()
    for _ in range(300):
        if not session._creating and not open_sessions(session):
            break
        await asyncio.sleep(0.01)
    assert open_sessions(session) == []
