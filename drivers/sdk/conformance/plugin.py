"""The kit's pytest plugin (entry point `pytest11`): fixtures only, all named `doorstep_*`.

Nothing here is autouse and nothing heavy is imported until a fixture is used, so the plugin
costs other test suites nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from doorstep.sdk import DriverContext
from doorstep.sdk.conformance.checks import ConformanceTarget
from doorstep.sdk.conformance.peer import SimulatorPeer

if TYPE_CHECKING:
    from doorstep.simulator import Simulator


@pytest.fixture
def doorstep_target() -> ConformanceTarget:
    """Override in your conftest or test class: the driver and device the kit checks."""
    pytest.fail(
        "the Doorstep conformance kit needs a `doorstep_target` fixture returning a "
        "ConformanceTarget (see doorstep.sdk.conformance)"
    )


@pytest.fixture(scope="session")
def doorstep_simulator_peer() -> Iterator[SimulatorPeer]:
    """The simulator's own thread and event loop, shared by the session."""
    peer = SimulatorPeer()
    yield peer
    peer.close()


@pytest.fixture
def doorstep_simulator(doorstep_simulator_peer: SimulatorPeer) -> Iterator[Simulator]:
    """A fresh simulator with one ONVIF camera on loopback (user admin, password doorstep).

    Its device is `only_device(simulator)`; change its behaviour through
    `doorstep_simulator_peer.call(...)`, which runs on the simulator's loop.
    """
    with doorstep_simulator_peer.simulator() as simulator:
        yield simulator


DriverContextFactory = Callable[[], AbstractAsyncContextManager[DriverContext]]


@pytest.fixture
def doorstep_driver_context(tmp_path: Path) -> DriverContextFactory:
    """`async with doorstep_driver_context() as context:` a real session, data dir and logger."""

    @contextlib.asynccontextmanager
    async def open_context() -> AsyncIterator[DriverContext]:
        async with aiohttp.ClientSession() as http:
            yield DriverContext(
                http=http,
                logger=logging.getLogger("doorstep.conformance"),
                data_dir=tmp_path / "driver-data",
            )

    return open_context
