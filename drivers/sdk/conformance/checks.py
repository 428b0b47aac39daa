"""The conformance checks: a test class a driver's own suite subclasses to run them all.

Each check is a plain (synchronous) pytest test that runs its scenario in a fresh event loop,
so the kit needs no asyncio plugin and no loop configuration from the driver's project.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from pydantic import SecretStr

from doorstep.sdk import (
    AuthenticationFailed,
    Device,
    DeviceConfig,
    DeviceEvent,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    DriverError,
    DriverFactory,
    EventKind,
    HasDiagnostics,
    HasEvents,
    HasStreams,
    StreamSource,
    api_version_problem,
    capabilities_of,
    option_problems,
    options_model_of,
)
from doorstep.sdk.conformance.peer import BlackHole, closed_port

T = TypeVar("T")

NAME = re.compile(r"^[a-z0-9_]{1,32}$")
CANCEL_AFTER_S = 0.3
"""How long a call runs against a hung device before the kit cancels it."""
SETTLE_S = 2.0
"""How long a closed device's tasks get to finish before they count as leaked."""


@dataclass(frozen=True)
class ConformanceTarget:
    """What the kit tests: a driver factory and a device it can reach (the simulator, say)."""

    factory: DriverFactory
    config: DeviceConfig
    """A reachable device with the right credentials; host and port are replaced by loopback
    addresses for the unreachable and hung-device checks."""
    checks_credentials: bool = True
    """Whether `connect()` proves the credentials (then a wrong password must raise
    `AuthenticationFailed`); False for drivers whose devices accept anyone on connect."""
    trigger_event: Callable[[], object] | None = None
    """Makes the device emit an event (run in a worker thread); None for drivers without
    events, or whose devices report their state on subscribing."""
    timeout_s: float = 30.0
    """Bound of every awaited driver call (generous: CI machines are loaded)."""


class DriverConformance:
    """Subclass as `TestMyDriver(DriverConformance)` and provide a `doorstep_target` fixture.

    The fixture returns a `ConformanceTarget`; the kit's plugin has the pieces to build it
    (`doorstep_simulator` for a simulated camera).
    """

    # -- the factory --------------------------------------------------------------------
    def test_factory_declares_itself(self, doorstep_target: ConformanceTarget) -> None:
        """Name, API version, options model and host declaration are usable by the gateway."""
        factory = doorstep_target.factory
        assert isinstance(factory, DriverFactory), "the factory lacks name/api_version/create"
        assert NAME.match(factory.name), f"driver name {factory.name!r} is not [a-z0-9_]{{1,32}}"
        assert api_version_problem(factory.api_version) is None, api_version_problem(
            factory.api_version
        )
        options_model_of(factory)  # raises TypeError for a model that is not strict
        problems = option_problems(factory, doorstep_target.config.options)
        assert problems == [], f"the target's own options are invalid: {problems}"

    def test_create_is_cheap_and_fresh(
        self, doorstep_target: ConformanceTarget, tmp_path: Path
    ) -> None:
        """`create()` is called on every reconnect: it must return a new device, no I/O."""

        async def scenario(context: DriverContext) -> None:
            first = doorstep_target.factory.create(doorstep_target.config, context)
            second = doorstep_target.factory.create(doorstep_target.config, context)
            assert isinstance(first, Device)
            assert first is not second, "create() must build a fresh device each time"
            assert _driver_tasks() == set(), "create() started tasks; start them in connect()"
            await _closed(doorstep_target, first)
            await _closed(doorstep_target, second)

        _run(doorstep_target, tmp_path, scenario)

    # -- lifecycle ------------------------------------------------------------------------
    def test_lifecycle(self, doorstep_target: ConformanceTarget, tmp_path: Path) -> None:
        """create → connect → capabilities → streams → close, and nothing left running."""

        async def scenario(context: DriverContext) -> None:
            device = doorstep_target.factory.create(doorstep_target.config, context)
            info = await _bounded(doorstep_target, device.connect(), "connect()")
            assert isinstance(info, DeviceInfo), f"connect() returned {type(info).__name__}"
            capabilities = capabilities_of(device)
            if isinstance(device, HasStreams):
                streams = await _bounded(doorstep_target, device.streams(), "streams()")
                assert streams, "a device with the streams capability listed none"
                for stream in streams:
                    assert isinstance(stream, StreamSource)
                    assert "@" not in stream.url.split("/")[2], (
                        "stream URLs carry no credentials (use username/password)"
                    )
            else:
                assert "streams" not in capabilities
            if isinstance(device, HasDiagnostics):
                await _check_diagnostics(doorstep_target, device)
            await _closed(doorstep_target, device)
            await _no_leaked_tasks()

        _run(doorstep_target, tmp_path, scenario)

    def test_close_is_idempotent(self, doorstep_target: ConformanceTarget, tmp_path: Path) -> None:
        """close() twice after connect, and close() on a device never connected, never raise."""

        async def scenario(context: DriverContext) -> None:
            never_connected = doorstep_target.factory.create(doorstep_target.config, context)
            await _closed(doorstep_target, never_connected)
            await _closed(doorstep_target, never_connected)
            device = doorstep_target.factory.create(doorstep_target.config, context)
            await _bounded(doorstep_target, device.connect(), "connect()")
            await _closed(doorstep_target, device)
            await _closed(doorstep_target, device)
            await _no_leaked_tasks()

        _run(doorstep_target, tmp_path, scenario)

    # -- the error tree -------------------------------------------------------------------
    def test_unreachable_device_is_unavailable(
        self, doorstep_target: ConformanceTarget, tmp_path: Path
    ) -> None:
        """Nothing listening at the address → `DeviceUnavailable`, never a bare exception."""
        config = _moved(doorstep_target.config, closed_port())

        async def scenario(context: DriverContext) -> None:
            device = doorstep_target.factory.create(config, context)
            with _only(DeviceUnavailable, "connect() to a closed port"):
                await _bounded(doorstep_target, device.connect(), "connect()")
            await _closed(doorstep_target, device)
            await _no_leaked_tasks()

        _run(doorstep_target, tmp_path, scenario)

    def test_wrong_password(self, doorstep_target: ConformanceTarget, tmp_path: Path) -> None:
        """A wrong password → `AuthenticationFailed` (when connect proves credentials)."""
        password = doorstep_target.config.password
        wrong = "not-" + (password.get_secret_value() if password else "")
        config = doorstep_target.config.model_copy(update={"password": SecretStr(wrong)})

        async def scenario(context: DriverContext) -> None:
            device = doorstep_target.factory.create(config, context)
            if doorstep_target.checks_credentials:
                with _only(AuthenticationFailed, "connect() with a wrong password"):
                    await _bounded(doorstep_target, device.connect(), "connect()")
            else:
                with _only(None, "connect() of a driver that proves no credentials"):
                    await _bounded(doorstep_target, device.connect(), "connect()")
            await _closed(doorstep_target, device)

        _run(doorstep_target, tmp_path, scenario)

    # -- events ---------------------------------------------------------------------------
    def test_events_are_normalised(
        self, doorstep_target: ConformanceTarget, tmp_path: Path
    ) -> None:
        """Events are `DeviceEvent`s of the vocabulary, stamped in aware UTC."""

        async def scenario(context: DriverContext) -> None:
            device = doorstep_target.factory.create(doorstep_target.config, context)
            await _bounded(doorstep_target, device.connect(), "connect()")
            if not isinstance(device, HasEvents):
                assert "events" not in capabilities_of(device)
                await _closed(doorstep_target, device)
                return
            feed = device.events()
            if doorstep_target.trigger_event is not None:
                await asyncio.to_thread(doorstep_target.trigger_event)
            with _only(None, "the events() iterator"):
                event = await _bounded(doorstep_target, anext(feed), "the first event")
            assert isinstance(event, DeviceEvent), f"events() yielded {type(event).__name__}"
            assert isinstance(event.kind, EventKind), f"kind {event.kind!r} is not an EventKind"
            assert event.time.tzinfo is not None, "event time must be time-zone aware"
            assert event.time.utcoffset() == timedelta(0), "event time must be in UTC"
            with contextlib.suppress(Exception):
                await _within(_aclose(feed), doorstep_target.timeout_s, "closing events()")
            await _closed(doorstep_target, device)
            await _no_leaked_tasks()

        _run(doorstep_target, tmp_path, scenario)

    # -- cancellation ---------------------------------------------------------------------
    def test_cancelled_connect_unwinds(
        self, doorstep_target: ConformanceTarget, tmp_path: Path
    ) -> None:
        """connect() to a hung device, cancelled mid-way: it ends cancelled, close() works."""

        async def scenario(context: DriverContext) -> None:
            async with BlackHole() as hole:
                device = doorstep_target.factory.create(
                    _moved(doorstep_target.config, hole.port), context
                )
                task = asyncio.create_task(device.connect())
                await asyncio.sleep(CANCEL_AFTER_S)
                assert not task.done(), "connect() to a device that never answers returned"
                task.cancel()
                await asyncio.wait({task}, timeout=doorstep_target.timeout_s)
                assert task.cancelled(), "connect() swallowed its cancellation"
                await _closed(doorstep_target, device)
            await _no_leaked_tasks()

        _run(doorstep_target, tmp_path, scenario)

    def test_cancelled_events_unwind(
        self, doorstep_target: ConformanceTarget, tmp_path: Path
    ) -> None:
        """A connected device's event wait (or idle time) cancelled: close() still works."""

        async def scenario(context: DriverContext) -> None:
            device = doorstep_target.factory.create(doorstep_target.config, context)
            await _bounded(doorstep_target, device.connect(), "connect()")

            async def pump() -> None:
                if isinstance(device, HasEvents):
                    async for _ in device.events():
                        pass
                else:
                    await asyncio.Event().wait()  # what the gateway does for such a device

            task = asyncio.create_task(pump())
            await asyncio.sleep(CANCEL_AFTER_S)
            task.cancel()
            await asyncio.wait({task}, timeout=doorstep_target.timeout_s)
            assert task.done(), "the event feed ignored its cancellation"
            if not task.cancelled():
                assert isinstance(task.exception(), DriverError), (
                    f"the event feed raised {task.exception()!r}, not a DriverError"
                )
            await _closed(doorstep_target, device)
            await _no_leaked_tasks()

        _run(doorstep_target, tmp_path, scenario)


# -- helpers ------------------------------------------------------------------------------
def _run(
    target: ConformanceTarget,
    tmp_path: Path,
    scenario: Callable[[DriverContext], Awaitable[None]],
) -> None:
    async def main() -> None:
        async with _context(target, tmp_path) as context:
            await scenario(context)

    # Not asyncio.run: it waits forever for a task that swallows its cancellation, and such a
    # driver must fail its check, not hang the suite.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=SETTLE_S))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        # Finalise what a faulty driver left behind now, not in the middle of pytest's report.
        gc.collect()


@contextlib.asynccontextmanager
async def _context(target: ConformanceTarget, tmp_path: Path) -> AsyncIterator[DriverContext]:
    async with aiohttp.ClientSession() as http:
        yield DriverContext(
            http=http,
            logger=logging.getLogger(f"doorstep.conformance.{target.factory.name}"),
            data_dir=tmp_path / "driver-data",
        )


def _moved(config: DeviceConfig, port: int) -> DeviceConfig:
    return config.model_copy(update={"host": "127.0.0.1", "port": port})


async def _bounded(target: ConformanceTarget, awaitable: Awaitable[T], what: str) -> T:
    return await _within(awaitable, target.timeout_s, what)


async def _within(awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    # Not wait_for: it waits for the cancelled call to finish, forever if the driver swallows
    # the cancellation; the kit must fail such a driver, not hang.
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=SETTLE_S)
        if not done:
            pytest.fail(f"{what} did not finish within {timeout_s:.0f} s, nor when cancelled")
        pytest.fail(f"{what} did not finish within {timeout_s:.0f} s")
    return task.result()


@contextlib.contextmanager
def _only(expected: type[DriverError] | None, what: str) -> Iterator[None]:
    try:
        yield
    except DriverError as exc:
        if expected is None or not isinstance(exc, expected):
            pytest.fail(f"{what} raised {type(exc).__name__}: {exc}")
    except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the point of the check: no bare exception may escape
        pytest.fail(f"{what} raised a bare {type(exc).__name__} (map it onto DriverError)")
    else:
        if expected is not None:
            pytest.fail(f"{what} succeeded; expected {expected.__name__}")


async def _closed(target: ConformanceTarget, device: Device) -> None:
    try:
        await _within(device.close(), min(target.timeout_s, 3.0), "close() (the gateway gives 3 s)")
    except Exception as exc:
        pytest.fail(f"close() raised {type(exc).__name__}: {exc}")


async def _aclose(feed: AsyncIterator[DeviceEvent]) -> None:
    closer = getattr(feed, "aclose", None)
    if closer is not None:
        await closer()


def _driver_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


async def _no_leaked_tasks() -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_S
    while (left := _driver_tasks()) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert not left, f"tasks still running after close(): {sorted(t.get_name() for t in left)}"


async def _check_diagnostics(target: ConformanceTarget, device: HasDiagnostics) -> None:
    report = await _bounded(target, device.diagnostics(), "diagnostics()")
    text = json.dumps(dict(report))  # must be JSON-shaped
    password = target.config.password
    if password is not None and password.get_secret_value():
        assert password.get_secret_value() not in text, "diagnostics() contain the password"
