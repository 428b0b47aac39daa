"""An aiohttp runner for the simulator's HTTP servers that leaves no connection open once stopped.

aiohttp's `AppRunner.cleanup()` closes the listening socket, then shuts down the connections its
server knew of when the shutdown began, and forgets the rest. A gateway that reconnects the moment
a stopping device drops its long-poll can land in between: asyncio had already accepted that
connection, which registers a moment later and is then forgotten, its socket open until the
garbage collector finds it (in the test suite, as a ResourceWarning in some later test). A real
camera that reboots drops every connection; this runner does too.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

# Loop turns to let an accept already under way reach connection_made: asyncio's accept makes
# the transport in a task step and calls connection_made with call_soon, so two turns suffice.
ACCEPT_TURNS = 3


class StoppingRunner(web.AppRunner):
    """An `AppRunner` whose `cleanup()` also closes connections made while it was stopping."""

    async def cleanup(self) -> None:
        server = self.server
        if server is None:
            await super().cleanup()
            return
        made_late: list[RequestHandler] = []
        register = server.connection_made

        def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
            made_late.append(handler)
            register(handler, transport)

        # An instance attribute shadows the method for the connections made from now on.
        server.connection_made = connection_made  # type: ignore[method-assign]
        await super().cleanup()
        for _ in range(ACCEPT_TURNS):
            await asyncio.sleep(0)
        for handler in made_late:
            handler.force_close()  # a no-op for the ones the shutdown already closed
