"""A stopping simulated device closes every connection, also one accepted while it stopped."""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from doorstep.simulator.http_runner import StoppingRunner


async def test_a_connection_made_during_the_shutdown_is_closed_too() -> None:
    """The race it exists for, made on purpose: a request holds the shutdown open, and a
    connection arrives meanwhile (through `connect_accepted_socket`, which is what asyncio's own
    accept does), after aiohttp took its list of the connections to shut down."""
    loop = asyncio.get_running_loop()
    holding = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        holding.set()
        await asyncio.sleep(5)
        return web.Response()

    app = web.Application()
    app.router.add_get("/slow", slow)
    runner = StoppingRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    await holding.wait()

    server = runner.server
    assert server is not None
    stopping = asyncio.create_task(runner.cleanup())
    await asyncio.sleep(0.1)  # inside the shutdown's wait for the slow request
    gateway_end, device_end = socket.socketpair()
    await loop.connect_accepted_socket(server, device_end)
    gateway_end.setblocking(False)
    await stopping

    # The late connection's server side is closed: the other end reads the end of the stream.
    assert await asyncio.wait_for(loop.sock_recv(gateway_end, 1), 1.0) == b""
    gateway_end.close()
    writer.close()
    await writer.wait_closed()
    assert await reader.read() == b""
