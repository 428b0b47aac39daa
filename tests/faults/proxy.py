"""A fault-injecting TCP proxy on loopback, for tests that put it between the gateway and a
simulated camera (there is no toxiproxy or `tc netem` here).

    proxy = FaultProxy("127.0.0.1", camera_port)
    port = await proxy.start()        # point the gateway at 127.0.0.1:port
    proxy.delay(0.5)                  # every byte arrives half a second late, both ways
    proxy.blackhole()                 # connections stay open, nothing passes (a dead Wi-Fi link)
    proxy.reset()                     # every connection is reset now, and new ones as they come
    proxy.half_open()                 # camera→gateway is closed (FIN), gateway→camera still open
    proxy.throttle(2000)              # at most 2000 bytes/s each way, per connection
    proxy.heal()                      # back to a clean wire for everything that passes from now
    await proxy.stop()

A fault applies to every open connection and every new one until `heal()`. Each connection is
two pipes (one per direction), each a reader task and a writer task with a bounded queue
between them, so a slow side stalls the proxy's reads instead of growing its memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from enum import Enum

CHUNK = 64 * 1024
QUEUE_CHUNKS = 64


class Fault(Enum):
    """What the wire does right now."""

    NONE = "none"
    DELAY = "delay"
    BLACKHOLE = "blackhole"
    RESET = "reset"
    HALF_OPEN = "half_open"
    THROTTLE = "throttle"


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST: SO_LINGER 0, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Connection:
    """One proxied connection: client ↔ upstream, two directions."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.proxy = proxy
        self.client_writer = client[1]
        self.upstream_writer = upstream[1]
        self.tasks: set[asyncio.Task[None]] = set()
        # Upstream → client is the "downstream" direction (what the camera sends).
        for name, reader, writer, downstream in (
            ("up", client[0], upstream[1], False),
            ("down", upstream[0], client[1], True),
        ):
            queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUE_CHUNKS)
            self.tasks.add(asyncio.create_task(self._read(reader, queue), name=f"proxy-{name}"))
            self.tasks.add(
                asyncio.create_task(self._write(writer, queue, downstream), name=f"proxy-{name}")
            )

    async def _read(
        self, reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes] | None]
    ) -> None:
        try:
            while data := await reader.read(CHUNK):
                if self.proxy.fault is Fault.BLACKHOLE:
                    continue
                await queue.put((time.monotonic(), data))
        except (ConnectionError, OSError):
            pass
        await queue.put(None)

    async def _write(
        self,
        writer: asyncio.StreamWriter,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        downstream: bool,
    ) -> None:
        try:
            while (item := await queue.get()) is not None:
                arrived, data = item
                proxy = self.proxy
                if proxy.fault is Fault.BLACKHOLE:
                    continue
                if proxy.fault is Fault.DELAY:
                    await asyncio.sleep(max(0.0, arrived + proxy.delay_s - time.monotonic()))
                if proxy.fault is Fault.HALF_OPEN and downstream:
                    writer.write_eof()
                    await asyncio.Event().wait()  # this direction stays shut until closed
                await self._send(writer, data)
        except (ConnectionError, OSError):
            pass
        finally:
            self.close()  # one side gone: the connection is over

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Write a chunk; under THROTTLE, in tenth-of-a-second slices at the allowed rate."""
        proxy = self.proxy
        offset = 0
        while offset < len(data):
            if proxy.fault is Fault.THROTTLE:
                size = max(1, int(proxy.bytes_per_s / 10))
                writer.write(data[offset : offset + size])
                await writer.drain()
                offset += size
                await asyncio.sleep(size / proxy.bytes_per_s)
            else:
                writer.write(data[offset:])
                await writer.drain()
                return

    def half_close(self) -> None:
        """Send a FIN to the client now (camera→gateway closed); the other way stays open."""
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if not self.client_writer.is_closing():
                self.client_writer.write_eof()

    def reset(self) -> None:
        """Reset both sockets (RST, not FIN)."""
        for writer in (self.client_writer, self.upstream_writer):
            _reset(writer)
        for task in self.tasks:
            task.cancel()

    def close(self) -> None:
        """Close both sockets and stop both directions."""
        for writer in (self.client_writer, self.upstream_writer):
            writer.close()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        self.proxy._connections.discard(self)


class FaultProxy:
    """Listens on 127.0.0.1 and forwards every connection to (host, port), faults applied."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.fault = Fault.NONE
        self.delay_s = 0.0
        self.bytes_per_s = 1.0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    async def start(self) -> int:
        """Start listening on a free loopback port; returns it."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.fault is Fault.RESET:
            _reset(writer)
            return
        try:
            upstream = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        connection = _Connection(self, (reader, writer), upstream)
        self._connections.add(connection)
        if self.fault is Fault.HALF_OPEN:
            connection.half_close()
        # Keep the handler alive while the connection lives, so stop() can wait for it.
        await asyncio.gather(*connection.tasks, return_exceptions=True)

    @property
    def connections(self) -> int:
        """Connections open through the proxy now."""
        return len(self._connections)

    def delay(self, seconds: float) -> None:
        """Deliver every chunk `seconds` after it arrived, both ways."""
        self.fault, self.delay_s = Fault.DELAY, seconds

    def blackhole(self) -> None:
        """Keep connections open but let nothing through (and accept new ones the same way)."""
        self.fault = Fault.BLACKHOLE

    def reset(self) -> None:
        """Reset every open connection, and every new one until healed."""
        self.fault = Fault.RESET
        for connection in list(self._connections):
            connection.reset()
            self._connections.discard(connection)

    def half_open(self) -> None:
        """Close the camera→gateway direction of every connection (and of new ones)."""
        self.fault = Fault.HALF_OPEN
        for connection in self._connections:
            connection.half_close()

    def throttle(self, bytes_per_s: float) -> None:
        """Let at most `bytes_per_s` through per direction and connection."""
        self.fault, self.bytes_per_s = Fault.THROTTLE, bytes_per_s

    def heal(self) -> None:
        """A clean wire again (connections a fault left broken stay broken: peers reconnect)."""
        self.fault = Fault.NONE

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None
