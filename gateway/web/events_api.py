"""Events API: the stored timeline, and a live push (Server-Sent Events) of what happens now."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel

from ..events import BusEvent, CameraEventReceived, CameraStateChanged
from ..storage import EventRecord, EventRepository
from .auth_api import principal_of
from .keys import ACCOUNTS, BUS, DATABASE
from .policy import json_error
from .session import session_token

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
    cameras = query.getall("camera", [])
    if principal.cameras is not None:
        cameras = (
            [c for c in cameras if c in principal.cameras] if cameras else sorted(principal.cameras)
        )
        if not cameras:
            return web.json_response(EventList(events=[]).model_dump(mode="json"))
    try:
        before = datetime.fromisoformat(query["before"]) if "before" in query else None
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", "before or limit is malformed"
        ) from None
    if before is not None and before.tzinfo is None:
        raise json_error(web.HTTPUnprocessableEntity, "invalid", "before needs a time zone")
    kinds = set(query.getall("kind", []))
    repository = EventRepository(request.app[DATABASE].standard)
    records = await repository.recent(cameras or None, limit, before, kinds or None)
    return web.json_response(EventList(events=[_view(r) for r in records]).model_dump(mode="json"))


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
    return None


async def stream_events(request: web.Request) -> web.StreamResponse:
    """GET /api/events/stream: camera events and state changes as they happen (SSE)."""
    principal = principal_of(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(b": connected\n\n")
    subscription = request.app[BUS].stream(
        f"sse:{principal.username}", (CameraEventReceived, CameraStateChanged), STREAM_QUEUE
    )
    accounts = request.app[ACCOUNTS]
    token = session_token(request)
    try:
        while True:
            try:
                event = await asyncio.wait_for(subscription.get(), HEARTBEAT_S)
            except TimeoutError:
                # A heartbeat keeps proxies from closing the stream; it is also where a revoked
                # session (signed out elsewhere, password changed) ends the stream.
                if token and await accounts.principal_for(token) is None:
                    break
                await response.write(b": heartbeat\n\n")
                continue
            message = _message(event)
            if message is None or not principal.may_see(message[0]):
                continue
            await response.write(f"event: {message[1]}\ndata: {message[2]}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        await subscription.close()
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
    return response
