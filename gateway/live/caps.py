"""The caps on live calls: per account, per camera and in all, prepared calls included.

A call counts from the moment its offer is admitted, while it is still being answered, so a
burst of offers sent all at once cannot overrun a cap: the count and the slot are taken in one
step with no await in between.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol

from doorstep.gateway.live.offer import LiveError

MAX_SESSIONS_PER_USER = 4
MAX_SESSIONS_PER_CAMERA = 16
MAX_SESSIONS = 32


class Call(Protocol):
    """What the caps read of an open call."""

    username: str
    camera_id: str


class StartSlot:
    """An offer being answered, counted toward its caps until it is a session or refused."""

    def __init__(self, starting: Counter[tuple[str, str]], username: str, camera_id: str) -> None:
        self._starting = starting
        self._keys = (("user", username), ("camera", camera_id), ("all", ""))
        self._held = True
        for key in self._keys:
            starting[key] += 1

    def release(self) -> None:
        """Stop counting it (idempotent)."""
        if not self._held:
            return
        self._held = False
        for key in self._keys:
            self._starting[key] -= 1
            if self._starting[key] <= 0:
                del self._starting[key]


class CallCaps:
    """Admits a new call (a prepared one too) only while every cap has room."""

    def __init__(
        self,
        per_user: int = MAX_SESSIONS_PER_USER,
        per_camera: int = MAX_SESSIONS_PER_CAMERA,
        total: int = MAX_SESSIONS,
    ) -> None:
        self.per_user = per_user
        self.per_camera = per_camera
        self.total = total
        self._starting: Counter[tuple[str, str]] = Counter()
        """Offers being answered, by ("user", name), ("camera", id) and ("all", "")."""

    def take(self, open_calls: Iterable[Call], username: str, camera_id: str) -> StartSlot:
        """A slot for one more call, or LiveError 429 when a cap is reached. Synchronous: call
        it before the first await of the request it admits."""
        calls = list(open_calls)
        mine = sum(c.username == username for c in calls) + self._starting[("user", username)]
        here = sum(c.camera_id == camera_id for c in calls)
        here += self._starting[("camera", camera_id)]
        everyone = len(calls) + self._starting[("all", "")]
        if mine >= self.per_user or everyone >= self.total:
            raise LiveError("too many live views open; hang one up first", 429)
        if here >= self.per_camera:
            raise LiveError("too many live views of this camera are open; try again later", 429)
        return StartSlot(self._starting, username, camera_id)

    @property
    def starting(self) -> int:
        """Offers being answered right now."""
        return self._starting[("all", "")]
