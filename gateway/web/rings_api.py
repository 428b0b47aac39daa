"""Rings API: the doorbell rings going on now, as the ring banner shows them.

The same view is pushed as `ring` messages on the event stream (events_api.py), each time a
ring starts, is answered or ends; a newly opened stream gets the active rings first.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.events import RingAnswered, RingEnded, RingStarted
from doorstep.gateway.ringing import Ring, RingState
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import principal_of
from doorstep.gateway.web.keys import RINGS
from doorstep.gateway.web.policy import Access
from doorstep.gateway.web.responses import model_response

RING_RANK: dict[str, int] = {"ringing": 0, "answered": 1, "ended": 2}
"""A ring only moves forward: ringing, answered, ended."""


class RingView(BaseModel):
    """One ring: the banner shows it while `ringing`, says who answered, goes at `ended`."""

    ring_id: str
    camera_id: str
    state: RingState
    started_at: datetime
    answered_by: str | None = Field(description="Who answered it (the first call on it).")
    answered_at: datetime | None
    reason: str | None = Field(
        None, description="Why it ended: timeout, answered_call_ended or camera_removed."
    )


class RingList(BaseModel):
    """The active rings of the cameras this account may see, oldest first."""

    rings: list[RingView]


def ring_view(ring: Ring) -> RingView:
    """A tracked ring as the API shows it."""
    return RingView(
        ring_id=ring.id, camera_id=ring.camera_id, state=ring.state, started_at=ring.started_at,
        answered_by=ring.answered_by, answered_at=ring.answered_at,
        reason=ring.ended.value if ring.ended is not None else None,
    )  # fmt: skip


def ring_event_view(event: RingStarted | RingAnswered | RingEnded) -> RingView:
    """A ring's bus event as the API shows the ring after it."""
    if isinstance(event, RingStarted):
        return RingView(
            ring_id=event.ring_id, camera_id=event.camera_id, state="ringing",
            started_at=event.started_at, answered_by=None, answered_at=None,
        )  # fmt: skip
    if isinstance(event, RingAnswered):
        return RingView(
            ring_id=event.ring_id, camera_id=event.camera_id, state="answered",
            started_at=event.started_at, answered_by=event.answered_by,
            answered_at=event.answered_at,
        )  # fmt: skip
    return RingView(
        ring_id=event.ring_id, camera_id=event.camera_id, state="ended",
        started_at=event.started_at, answered_by=event.answered_by,
        answered_at=event.answered_at, reason=event.reason.value,
    )  # fmt: skip


def visible_rings(request: web.Request) -> list[RingView]:
    """The active rings the caller may see."""
    principal = principal_of(request)
    rings = request.app.get(RINGS)
    if rings is None:
        return []
    return [ring_view(r) for r in rings.active() if principal.may_see(r.camera_id)]


async def list_rings(request: web.Request) -> web.Response:
    """GET /api/rings: the rings going on now (a page opened mid-ring shows the banner)."""
    body = RingList(rings=visible_rings(request))
    return model_response(body, headers={"Cache-Control": "no-store"})


def add_ring_routes(app: web.Application) -> None:
    """Register the rings API."""
    add_api_route(
        app, "GET", "/api/rings", list_rings, access=Access.HOUSEHOLD,
        summary="Doorbell rings going on now", response=RingList,
    )  # fmt: skip
