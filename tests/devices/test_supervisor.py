"""The device supervisor: state transitions, error classes, jittered backoff, logging once."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.devices import Backoff, DeviceSupervisor
from doorstep.gateway.events import BusEvent, CameraEventReceived, CameraState, CameraStateChanged
from doorstep.sdk import (
    AuthenticationFailed,
    DeviceConfig,
    DeviceEvent,
    DeviceUnavailable,
    DriverContext,
    EventKind,
    ProtocolError,
    Unsupported,
)

from .scripted_driver import INFO, Script, ScriptedDriver

PRESS = DeviceEvent(
    kind=EventKind.DOORBELL,
    active=True,
    time=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    topic="tns1:RuleEngine/MyRuleDetector/Visitor",
)


class Harness:
    """A supervisor over a scripted driver, with recorded sleeps and bus traffic."""

    def __init__(self, bus: EventBus, http: aiohttp.ClientSession, tmp: Path) -> None:
        self.bus = bus
        self.script = Script()
        self.sleeps: list[float] = []
        self.wake = asyncio.Event()
        self.http = http
        self.tmp = tmp
        self.messages: Subscription[BusEvent] = bus.stream("test", (BusEvent,), 10_000)

    async def _sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        await asyncio.sleep(0)

    def supervisor(self, *, driver: bool = True, **kwargs: object) -> DeviceSupervisor:
        context = DriverContext(self.http, logging.getLogger("doorstep.drivers.scripted"), self.tmp)
        return DeviceSupervisor(
            DeviceConfig(id="door", host="192.0.2.1"),
            ScriptedDriver(self.script) if driver else None,
            context,
            self.bus,
            Backoff(1.0, 8.0, random.Random(7)),
            sleep=self._sleep,
            **kwargs,  # type: ignore[arg-type]
        )

    async def next_state(self) -> CameraStateChanged:
        while True:
            message = await asyncio.wait_for(self.messages.get(), 5)
            if isinstance(message, CameraStateChanged):
                return message

    async def states_until(self, final: CameraState) -> list[CameraState]:
        seen = []
        while True:
            state = (await self.next_state()).state
            seen.append(state)
            if state is final:
                return seen


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    bus = EventBus()
    async with aiohttp.ClientSession() as http:
        yield Harness(bus, http, tmp_path)
    await bus.close()


async def test_retries_with_jittered_capped_backoff_until_online(harness: Harness) -> None:
    harness.script.connects = [DeviceUnavailable("no route")] * 7
    supervisor = harness.supervisor()
    supervisor.start()
    states = await harness.states_until(CameraState.ONLINE)
    assert states == [CameraState.CONNECTING, CameraState.UNAVAILABLE] * 7 + [
        CameraState.CONNECTING,
        CameraState.ONLINE,
    ]
    assert harness.script.connect_calls == 8
    # Ceilings 1, 2, 4, 8, 8, 8, 8 s; each delay is 50–100 % of its ceiling.
    for delay, ceiling in zip(harness.sleeps, [1, 2, 4, 8, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(harness.sleeps)) == 7  # jittered, not a fixed ladder
    assert supervisor.info == INFO
    assert supervisor.capabilities == frozenset({"events"})
    assert harness.script.close_calls == 7  # every failed attempt released its device
    await supervisor.stop()
    assert supervisor.state is CameraState.STOPPED
    assert harness.script.close_calls == 8


async def test_events_are_published_and_a_lost_feed_reconnects(harness: Harness) -> None:
    supervisor = harness.supervisor()
    supervisor.start()
    await harness.states_until(CameraState.ONLINE)
    harness.script.feed.put_nowait(PRESS)
    message = await asyncio.wait_for(harness.messages.get(), 5)
    assert isinstance(message, CameraEventReceived)
    assert message.camera_id == "door"
    assert message.event == PRESS
    assert message.received_at.tzinfo is UTC
    harness.script.feed.put_nowait(ProtocolError("garbled PullMessages"))
    changed = await harness.next_state()
    assert changed.state is CameraState.UNAVAILABLE
    assert changed.reason == "ProtocolError: garbled PullMessages"
    assert await harness.states_until(CameraState.ONLINE) == [
        CameraState.CONNECTING,
        CameraState.ONLINE,
    ]
    await supervisor.stop()


async def test_wrong_credentials_wait_for_the_user(harness: Harness) -> None:
    harness.script.connects = [AuthenticationFailed("NotAuthorized")]
    supervisor = harness.supervisor()
    supervisor.start()
    changed = await harness.next_state()
    assert changed.state is CameraState.CONNECTING
    changed = await harness.next_state()
    assert (changed.state, changed.reason) == (CameraState.NEEDS_CREDENTIALS, "NotAuthorized")
    await asyncio.sleep(0.05)
    assert harness.script.connect_calls == 1  # no retry can fix a password
    assert not supervisor.running
    assert harness.sleeps == []
    await supervisor.reconnect()  # the user fixed the password
    assert (await harness.states_until(CameraState.ONLINE))[-1] is CameraState.ONLINE
    assert harness.script.connect_calls == 2
    await supervisor.stop()


async def test_a_stop_during_a_drivers_close_lets_the_close_finish(harness: Harness) -> None:
    """Cancelling supervision mid-close used to cut the driver's close() short, stranding its
    HTTP sessions (an unclosed-session warning at the end of the run)."""
    harness.script.connects = [AuthenticationFailed("NotAuthorized")]
    harness.script.close_s = 0.3
    supervisor = harness.supervisor()
    supervisor.start()
    for _ in range(200):
        if harness.script.close_calls:
            break
        await asyncio.sleep(0.01)
    assert harness.script.close_calls == 1
    assert harness.script.closes_finished == 0  # the close is under way...
    await supervisor.stop()  # ...when the owner saves new credentials
    assert harness.script.closes_finished == 1
    assert supervisor.state is CameraState.STOPPED


async def test_unsupported_device_is_disabled_with_a_reason(harness: Harness) -> None:
    harness.script.connects = [Unsupported("no media service")]
    supervisor = harness.supervisor()
    supervisor.start()
    states = await harness.states_until(CameraState.DISABLED)
    assert states == [CameraState.CONNECTING, CameraState.DISABLED]
    assert supervisor.reason == "unsupported: no media service"
    await asyncio.sleep(0.05)
    assert harness.script.connect_calls == 1


async def test_driver_bug_is_retried_not_fatal(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.script.connects = [KeyError("oops")]
    supervisor = harness.supervisor()
    with caplog.at_level(logging.WARNING, logger="doorstep.gateway.devices"):
        supervisor.start()
        states = await harness.states_until(CameraState.ONLINE)
    assert states[1] is CameraState.UNAVAILABLE
    assert "driver error KeyError" in caplog.text
    assert "Traceback" in caplog.text  # a bug is logged with its traceback, once
    await supervisor.stop()


async def test_missing_or_disabled_driver(harness: Harness) -> None:
    missing = harness.supervisor(driver=False, missing_driver="driver 'acme' is not installed")
    missing.start()
    changed = await harness.next_state()
    assert (changed.state, changed.reason) == (
        CameraState.DISABLED,
        "driver 'acme' is not installed",
    )
    disabled = harness.supervisor(enabled=False)
    disabled.start()
    changed = await harness.next_state()
    assert (changed.state, changed.reason) == (CameraState.DISABLED, "disabled in config")
    assert harness.script.connect_calls == 0


async def test_outage_is_logged_once_and_recovery_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.script.connects = [DeviceUnavailable("timed out")] * 20
    supervisor = harness.supervisor()
    with caplog.at_level(logging.DEBUG, logger="doorstep.gateway.devices"):
        supervisor.start()
        await harness.states_until(CameraState.ONLINE)
    records = [r for r in caplog.records if r.name == "doorstep.gateway.devices.supervisor"]
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["unavailable: DeviceUnavailable: timed out"]
    assert warnings[0].camera == "door"  # type: ignore[attr-defined]
    back = [r for r in records if r.getMessage().startswith("back online after")]
    assert len(back) == 1
    assert sum(r.getMessage().startswith("still unavailable") for r in records) == 19
    await supervisor.stop()


async def test_device_without_events_stays_online(harness: Harness) -> None:
    harness.script.with_events = False
    supervisor = harness.supervisor()
    supervisor.start()
    await harness.states_until(CameraState.ONLINE)
    await asyncio.sleep(0.05)
    assert supervisor.state is CameraState.ONLINE
    assert supervisor.capabilities == frozenset()
    await supervisor.stop()
    assert harness.script.close_calls == 1


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 4.0, random.Random(1))
    ceilings = [0.5, 1, 2, 4, 4, 4]
    for ceiling in ceilings:
        assert ceiling / 2 <= backoff.next() <= ceiling
    backoff.reset()
    assert backoff.next() <= 0.5
    with pytest.raises(ValueError, match="initial"):
        Backoff(2, 1)


async def test_camera_that_just_dropped_is_retried_every_few_seconds(harness: Harness) -> None:
    harness.script.connects = [INFO] + [DeviceUnavailable("rebooting")] * 6
    supervisor = harness.supervisor()
    supervisor.start()
    await harness.states_until(CameraState.ONLINE)
    harness.script.feed.put_nowait(DeviceUnavailable("event feed lost"))
    await harness.states_until(CameraState.UNAVAILABLE)
    await harness.states_until(CameraState.ONLINE)
    # Backoff alone would reach its 8 s cap; a camera seen moments ago is retried within 4 s.
    assert len(harness.sleeps) == 7
    assert max(harness.sleeps) <= 4.0
    await supervisor.stop()
