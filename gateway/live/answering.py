"""Calls and rings: which ring a new call answers, the page that answers twice, who is in a call.

A call started on a ringing camera answers its ring (the first one does; later ones join it).
One page (one sign-in) answers a ring once: a second offer for it gets the call it is in
already, as a 409 that names it, and nothing else changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from doorstep.gateway.live.offer import LiveError
from doorstep.gateway.live.peer import LiveSession
from doorstep.gateway.ringing import Ring, RingTracker


class RecentlyEnded:
    """The calls that ended lately and whose they were, so a hang-up that crosses the gateway's
    own end of the call (its ring ended, its timer ran out) is answered as done, not as
    unknown. Bounded: the oldest are forgotten first."""

    def __init__(self, keep: int = 1024) -> None:
        self._keep = keep
        self._ended: OrderedDict[str, str] = OrderedDict()

    def add(self, session_id: str, username: str) -> None:
        """Remember that `username`'s call `session_id` ended."""
        self._ended[session_id] = username
        while len(self._ended) > self._keep:
            self._ended.popitem(last=False)

    def had(self, session_id: str, username: str) -> bool:
        """Whether `session_id` was `username`'s call and has ended."""
        return self._ended.get(session_id) == username


class AlreadyInCall(LiveError):
    """This page is in a call on that camera already (or is starting one for its ring)."""

    def __init__(self, session: LiveSession | None) -> None:
        if session is None:
            message = "this page is answering that ring already"
        elif session.prepared:
            message = "this page has prepared that call already; answer it"
        else:
            message = "this page is in that call already"
        super().__init__(message, 409)
        self.session_id = session.id if session is not None else None
        self.prepared = session is not None and session.prepared


def ring_for(
    rings: RingTracker | None, camera_id: str, ring_id: str | None, prepare: bool
) -> Ring | None:
    """The active ring a new call on the camera is for: the named one while it rings, else the
    camera's current one. LiveError for a ring at another camera, or a prepare with no ring."""
    named = rings.get(ring_id) if rings is not None and ring_id else None
    if named is not None and named.camera_id != camera_id:
        raise LiveError("that ring is at another camera", 422)
    ring = named or (rings.current(camera_id) if rings is not None else None)
    if prepare and ring is None:
        raise LiveError("the camera is not ringing (the ring has ended)", 409)
    return ring


def same_page_call(
    sessions: Iterable[LiveSession], auth_session: str, camera_id: str, ring: Ring
) -> LiveSession | None:
    """The call this sign-in has on the camera that a new offer for `ring` would duplicate: a
    call or prepared call for that ring, or any call it is watching already."""
    for session in sessions:
        if session.auth_session != auth_session or session.camera_id != camera_id:
            continue
        if session.ring_id == ring.id or not session.prepared:
            return session
    return None


@dataclass(frozen=True, slots=True)
class Participant:
    """One household member in a call on a camera, and since when."""

    username: str
    since: datetime


def participants(sessions: Iterable[LiveSession], camera_id: str) -> list[Participant]:
    """Who is in a call on the camera (prepared calls are nobody's call yet), earliest first;
    a person with two devices in the call is named once."""
    earliest: dict[str, datetime] = {}
    for session in sessions:
        if session.camera_id != camera_id or session.prepared:
            continue
        known = earliest.get(session.username)
        if known is None or session.started_at < known:
            earliest[session.username] = session.started_at
    found = [Participant(name, since) for name, since in earliest.items()]
    return sorted(found, key=lambda p: (p.since, p.username))
