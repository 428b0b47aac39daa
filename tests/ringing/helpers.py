"""Helpers for tests that ring the simulated doorbell through a gateway: press and wait for the
ring, read the event stream's messages, read the audit log."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from doorstep.gateway.ringing import Ring
from doorstep.gateway.web.keys import AUDIT, RINGS
from doorstep.simulator import SimulatedDevice

from ..gateway_client import SAME_ORIGIN, Client


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for `condition` (polled), failing the test if it does not come true in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def ring(app: web.Application, doorbell: SimulatedDevice, camera_id: str = "front") -> Ring:
    """Press the simulated doorbell's button and wait for the gateway's ring."""
    assert doorbell.press()
    await until(lambda: app[RINGS].current(camera_id) is not None)
    found = app[RINGS].current(camera_id)
    assert found is not None
    return found


@dataclass
class Stream:
    """An event stream read in the background: its messages as (name, data), in order."""

    response: aiohttp.ClientResponse
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        name = ""
        try:
            async for raw in self.response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    self.messages.append((name, json.loads(line[6:])))
        except aiohttp.ClientError:
            pass

    def rings(self) -> list[dict[str, Any]]:
        """The `ring` messages so far."""
        return [data for name, data in self.messages if name == "ring"]

    def close(self) -> None:
        self.response.close()
        if self.task is not None:
            self.task.cancel()


async def open_stream(client: Client) -> Stream:
    """Open GET /api/events/stream and read it in the background."""
    response = await client.get("/api/events/stream", headers=SAME_ORIGIN)
    assert response.status == 200
    stream = Stream(response)
    stream.task = asyncio.create_task(stream._run())
    return stream


async def audited(app: web.Application, actor: str) -> list[tuple[str, dict[str, Any]]]:
    """(action, detail) of the actor's audit rows, oldest first."""
    entries = await app[AUDIT].query(actor=actor, limit=1000)
    return [(e.action, dict(e.detail)) for e in reversed(entries)]


async def until_audited(
    app: web.Application, actor: str, entry: tuple[str, dict[str, Any]], timeout: float = 10.0
) -> None:
    """Wait for that (action, detail) row of the actor (a call is audited once it is closed)."""
    deadline = time.monotonic() + timeout
    while entry not in await audited(app, actor):
        assert time.monotonic() < deadline, f"not audited: {entry}"
        await asyncio.sleep(0.05)
