"""Events API: the stored timeline, and a live push (Server-Sent Events) of what happens now:
camera events and states, and doorbell rings (`ring` messages, the active ones first)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel

from doorstep.gateway.auth import Principal
from doorstep.gateway.auth.revocation import AccessWatcher
from doorstep.gateway.bus.event_bus import Subscription
from doorstep.gateway.events import (
    BusEvent,
    CameraEventReceived,
    CameraStateChanged,
    RingAnswered,
    RingEnded,
    RingStarted,
    ShareAccessed,
)
from doorstep.gateway.storage import EventRecord
from doorstep.gateway.web.auth_api import principal_of
from doorstep.gateway.web.keys import ACCOUNTS, BUS, STORAGE
from doorstep.gateway.web.policy import json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.rings_api import RING_RANK, RingView, ring_event_view, visible_rings
from doorstep.gateway.web.session import session_token

HEARTBEAT_S = 15.0
STREAM_QUEUE = 256


class EventView(BaseModel):
    """One stored event."""

    id: int | None
    camera_id: str
    kind: str
    active: bool | None
    initial: bool
    occurred_at: datetime
    received_at: datetime
    source: str | None
    topic: str


class EventList(BaseModel):
    """Newest first; pass the last `received_at` as `before` for the next page."""

    events: list[EventView]


def _view(record: EventRecord) -> EventView:
    return EventView(
        id=record.id, camera_id=record.camera_id, kind=record.kind, active=record.active,
        initial=record.initial, occurred_at=record.occurred_at, received_at=record.received_at,
        source=record.source, topic=record.topic,
    )  # fmt: skip


async def list_events(request: web.Request) -> web.Response:
    """GET /api/events?camera=&kind=&before=&limit=."""
    principal = principal_of(request)
    query = request.query
    try:
        before = datetime.fromisoformat(query["before"]) if "before" in query else None
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", "before or limit is malformed"
        ) from None
    if before is not None and before.tzinfo is None:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "before needs a time zone")
    cameras = query.getall("camera", [])
    if principal.cameras is not None:
        cameras = (
            [c for c in cameras if c in principal.cameras] if cameras else sorted(principal.cameras)
        )
        if not cameras:
            return model_response(EventList(events=[]))
    kinds = set(query.getall("kind", []))
    records = await request.app[STORAGE].events.recent(
        cameras or None, limit, before, kinds or None
    )
    return model_response(EventList(events=[_view(r) for r in records]))


def _message(event: BusEvent) -> tuple[str, str, str] | None:
    """(camera id, SSE event name, JSON data) for what the UI shows live."""
    if isinstance(event, CameraEventReceived):
        e = event.event
        data = {
            "camera_id": event.camera_id, "kind": e.kind.value, "active": e.active,
            "initial": e.initial, "source": e.source, "received_at": event.received_at.isoformat(),
        }  # fmt: skip
        return event.camera_id, "camera-event", json.dumps(data)
    if isinstance(event, CameraStateChanged):
        data = {"camera_id": event.camera_id, "state": event.state.value, "reason": event.reason}
        return event.camera_id, "camera-state", json.dumps(data)
    if isinstance(event, RingStarted | RingAnswered | RingEnded):
        return event.camera_id, "ring", ring_event_view(event).model_dump_json()
    if isinstance(event, ShareAccessed):
        data = {
            "share_id": event.share_id, "title": event.title, "kind": event.kind,
            "via": event.via, "client": event.client, "at": event.at.isoformat(),
        }  # fmt: skip
        return OWNER_ONLY, "share-access", json.dumps(data)
    return None


OWNER_ONLY = ""
"""The "camera" of a message only the owner receives (a share was watched)."""


def _may_receive(principal: Principal, camera_id: str) -> bool:
    if camera_id == OWNER_ONLY:
        return principal.role == "owner"
    return principal.may_see(camera_id)


def _sse(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


class _RingsSent:
    """The rings a new stream was sent first; their events queued before that are not news."""

    def __init__(self, rings: list[RingView]) -> None:
        self._sent = {r.ring_id: RING_RANK[r.state] for r in rings}

    def stale(self, event: BusEvent) -> bool:
        """Whether `event` is a ring state the stream has sent already (or an older one)."""
        if not isinstance(event, RingStarted | RingAnswered | RingEnded):
            return False
        sent = self._sent.get(event.ring_id)
        if sent is None:
            return False
        rank = RING_RANK[ring_event_view(event).state]
        if rank > sent:
            del self._sent[event.ring_id]  # news from here on
            return False
        return True


MAX_STREAMS_PER_USER = 8
"""Tabs and phones of one person; past it the oldest would have to be closed first."""


class OpenStreams:
    """The event streams open now: counted per account (a resident opened 1000 before there was
    a cap), and ended all at once when the gateway shuts down (an open stream would otherwise
    hold shutdown for the server's whole grace period)."""

    def __init__(self) -> None:
        self.per_user: Counter[int] = Counter()
        self._tasks: set[asyncio.Task[object]] = set()

    def __getitem__(self, user_id: int) -> int:
        return self.per_user[user_id]

    @contextlib.contextmanager
    def opened(self, user_id: int) -> Iterator[None]:
        """Count a stream of `user_id` (call before the first await) while it runs."""
        self.per_user[user_id] += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)
            self.per_user[user_id] -= 1
            if self.per_user[user_id] <= 0:
                del self.per_user[user_id]

    async def end_all(self, _app: web.Application | None = None) -> None:
        """End every open stream now (an `on_shutdown` handler)."""
        for task in list(self._tasks):
            task.cancel()


STREAMS = web.AppKey("event_streams", OpenStreams)


async def stream_events(request: web.Request) -> web.StreamResponse:
    """GET /api/events/stream: camera events and state changes as they happen (SSE).

    The stream follows its account: a withdrawn grant, a sign-out, a disabled account, a role or
    password change is seen before the next delivery, and ends an idle stream within a second.
    """
    principal = principal_of(request)
    open_streams = request.app[STREAMS]
    # Counted before the first await, so a burst of opens cannot overrun the cap.
    if open_streams[principal.user_id] >= MAX_STREAMS_PER_USER:
        raise json_error(
            web.HTTPTooManyRequests, "too_many_streams",
            f"at most {MAX_STREAMS_PER_USER} event streams per account; close one first",
            {"Retry-After": "5"},
        )  # fmt: skip
    with (
        open_streams.opened(principal.user_id),
        request.app[ACCOUNTS].changes.watch(principal.user_id) as watcher,
    ):
        return await _stream(request, principal, watcher)


async def _open(
    request: web.Request, response: web.StreamResponse
) -> tuple[Subscription[BusEvent], _RingsSent]:
    """Subscribe, then open the stream: nothing published after the client sees it open is lost.
    Then the rings going on now, first: a phone that opens the app mid-ring shows the banner."""
    subscription = request.app[BUS].stream(
        "sse",
        (
            CameraEventReceived,
            CameraStateChanged,
            RingStarted,
            RingAnswered,
            RingEnded,
            ShareAccessed,
        ),
        STREAM_QUEUE,
    )
    try:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        rings = visible_rings(request)
        for ring in rings:
            await response.write(_sse("ring", ring.model_dump_json()))
    except BaseException:
        await subscription.close()
        raise
    return subscription, _RingsSent(rings)


async def _stream(
    request: web.Request, principal: Principal, watcher: AccessWatcher
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    subscription, sent = await _open(request, response)
    accounts = request.app[ACCOUNTS]
    token = session_token(request)
    current: Principal | None = principal
    next_event: asyncio.Task[BusEvent] | None = None
    change = asyncio.ensure_future(watcher.wait())
    try:
        while current is not None:
            if next_event is None:
                next_event = asyncio.ensure_future(subscription.get())
            done, _ = await asyncio.wait(
                {next_event, change}, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
            )
            if change in done:
                change = asyncio.ensure_future(watcher.wait())
            if watcher.stale or not done:
                # Something about the account changed (or a heartbeat is due): look again.
                watcher.stale = False
                current = await accounts.principal_for(token)
                if current is None or not current.in_household:
                    break
            if next_event in done:
                event, next_event = next_event.result(), None
                message = _message(event)
                if (
                    message is not None
                    and _may_receive(current, message[0])
                    and not sent.stale(event)
                ):
                    await response.write(_sse(message[1], message[2]))
            elif not done:
                await response.write(b": heartbeat\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        for task in (next_event, change):
            if task is not None:
                task.cancel()
        await subscription.close()
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
    return response
