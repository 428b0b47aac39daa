"""Loopback peers for the kit: the simulator on a loop of its own, a closed port, a black hole."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from doorstep.simulator import SimulatedDevice, Simulator
    from doorstep.simulator.library import MediaLibrary

T = TypeVar("T")

START_TIMEOUT_S = 60.0
"""Encoding the simulator's media takes about a second, much more on a loaded machine."""


class SimulatorPeer:
    """Runs `doorstep.simulator` in a thread with its own event loop, like a device on the LAN.

    A separate loop keeps the simulator's tasks out of the driver's (the kit counts those), and
    a driver that blocks its loop cannot make the device look slow.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="doorstep-conformance-simulator", daemon=True
        )
        self._media: MediaLibrary | None = None
        self._thread.start()

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the simulator's loop and return its result (blocks this thread)."""

        async def run() -> T:
            return function()

        return self.run(run())

    def run(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` on the simulator's loop and return its result (blocks this thread)."""

        async def run() -> T:
            return await awaitable

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self._loop)
        return future.result(START_TIMEOUT_S)

    @contextlib.contextmanager
    def simulator(self, **fields: Any) -> Iterator[Simulator]:
        """A running simulator built from `SimulatorConfig` fields (loopback, free ports)."""
        from doorstep.simulator import Simulator, SimulatorConfig  # noqa: PLC0415  # kit only
        from doorstep.simulator.library import MediaLibrary  # noqa: PLC0415

        fields.setdefault("discovery_port", 0)
        fields.setdefault("cameras", 1)
        fields.setdefault("doorbells", 0)
        if self._media is None:
            self._media = MediaLibrary()
        simulator = Simulator(SimulatorConfig(**fields), self._media)
        self.run(simulator.start())
        try:
            yield simulator
        finally:
            self.run(simulator.stop())

    def close(self) -> None:
        """Stop the loop and its thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_S)
        self._loop.close()


def only_device(simulator: Simulator) -> SimulatedDevice:
    """The simulator's single device (the kit starts one camera)."""
    (device,) = simulator.devices.values()
    return device


def closed_port() -> int:
    """A loopback TCP port where nothing listens (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class BlackHole:
    """A loopback TCP server that accepts connections and never answers: a hung device."""

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> BlackHole:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)

    async def __aexit__(self, *exc: object) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
