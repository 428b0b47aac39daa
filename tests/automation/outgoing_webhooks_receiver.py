"""A real HTTP receiver for outgoing webhook tests: an aiohttp server on 127.0.0.1 that records
every request and answers as each test scripts it; plus the component built on real storage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from doorstep.gateway.automation.outgoing_webhooks import OutgoingWebhooks
from doorstep.gateway.automation.webhook_delivery import Clock, RetryPolicy
from doorstep.gateway.automation.webhook_rule import RuleSettings
from doorstep.gateway.automation.webhook_signing import DELIVERY, EVENT, SIGNATURE, TIMESTAMP
from doorstep.gateway.automation.webhook_signing import verify as verify_signature
from doorstep.gateway.automation.webhook_template import check_template
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.events import CameraEventReceived
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRecord, Storage
from doorstep.sdk import DeviceEvent, EventKind

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers[DELIVERY]

    @property
    def event(self) -> str:
        return self.headers[EVENT]

    def signed_by(self, secret: str) -> bool:
        """The signature checks out as a receiver would check it (now, 5 min tolerance)."""
        return verify_signature(
            secret,
            self.headers[TIMESTAMP],
            self.headers[SIGNATURE],
            self.body,
            datetime.now(UTC).timestamp(),
        )


async def _ok(request: web.Request) -> web.StreamResponse:
    return web.Response(status=200, text="ok")


@dataclass
class Receiver:
    """Records requests per path; `answers[path]` scripts the answers (default 200)."""

    base: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    """Per path, the next answers in order; the last one repeats."""
    started: dict[str, int] = field(default_factory=dict)
    """Requests per path whose handler began (a hanging one never records)."""
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self, path: str = "/hook", query: str = "") -> str:
        return f"{self.base}{path}{'?' + query if query else ''}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def script(self, path: str, *answers: Answer) -> None:
        self.answers[path] = list(answers)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.started[path] = self.started.get(path, 0) + 1
        body = await request.read()
        queue = self.answers.get(path, [])
        answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else _ok
        response = await answer(request)
        async with self._arrived:
            self.requests.append(Received(path, request.query_string, dict(request.headers), body))
            self._arrived.notify_all()
        return response

    async def wait_for(self, path: str, count: int, timeout: float = 20.0) -> list[Received]:
        """Until `count` requests reached `path`; fails after `timeout` (generous: loaded CI)."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.at(path)) >= count)
        return self.at(path)


def status(code: int, headers: dict[str, str] | None = None) -> Answer:
    """An answer with this status."""

    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, text=f"status {code}", headers=headers)

    return answer


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """A running receiver on 127.0.0.1."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    receiver.base = str(server.make_url("")).rstrip("/")
    try:
        yield receiver
    finally:
        await server.close()


class Sleeps:
    """An injected sleep: records each delay, moves its own clock on by it and returns at once
    (no real minutes waited)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay
        await asyncio.sleep(0)


FAST = RetryPolicy(timeout_s=10.0, max_attempts=4, backoff_initial_s=2.0)


@asynccontextmanager
async def outgoing_webhooks(
    data_dir: Path,
    policy: RetryPolicy = FAST,
    sleeps: Sleeps | None = None,
    random: Callable[[], float] = lambda: 0.0,
) -> AsyncIterator[tuple[OutgoingWebhooks, EventBus, Storage]]:
    """The component on a real bus, real SQLite and the real secret box, cameras front/garden."""
    storage = await Storage.open(data_dir)
    box = await asyncio.to_thread(SecretBox.load_or_create, data_dir)
    now = datetime.now(UTC)
    for camera_id, name in (("front", "Front door"), ("garden", "Garden")):
        await storage.cameras.upsert(CameraRecord(camera_id, name, "onvif", "127.0.0.1", 80, now))
    bus = EventBus()
    sleeps = sleeps or Sleeps()
    clock = Clock(monotonic=sleeps.monotonic, sleep=sleeps, random=random)
    hooks = OutgoingWebhooks(
        bus, storage.webhook_rules, storage.cameras, box, gateway="Doorstep test",
        policy=policy, clock=clock,
    )  # fmt: skip
    await hooks.start()
    try:
        yield hooks, bus, storage
    finally:
        await hooks.stop()
        await bus.close()
        await storage.close()


def rule(
    url: str,
    kinds: set[EventKind] | None = None,
    cameras: set[str] | None = None,
    *,
    include_ends: bool = False,
    template: str | None = None,
    name: str = "phone",
) -> RuleSettings:
    """Rule settings (doorbell only, every camera, unless told)."""
    return RuleSettings(
        name, True, url, frozenset(kinds or {EventKind.DOORBELL}), frozenset(cameras or ()),
        include_ends, check_template(template),
    )  # fmt: skip


def camera_event(
    camera_id: str,
    kind: EventKind = EventKind.DOORBELL,
    active: bool | None = True,
    *,
    initial: bool = False,
    at: datetime | None = None,
) -> CameraEventReceived:
    """A camera event as the supervisor publishes it."""
    moment = at or datetime.now(UTC)
    event = DeviceEvent(kind=kind, active=active, time=moment, initial=initial)
    return CameraEventReceived(camera_id, event, datetime.now(UTC))
