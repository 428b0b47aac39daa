"""Calls outlive no revocation: each call follows its account's access changes (ended at once),
and every open call's access is re-checked every RECHECK_S (signed out elsewhere, password
changed, account removed, the camera's grant withdrawn)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from doorstep.gateway.live.peer import LiveSession

_log = logging.getLogger(__name__)

RECHECK_S = 2.0


class AccessFollow(Protocol):
    """Tells a call at once that its account's access may have changed (see auth.revocation)."""

    stale: bool

    async def wait(self) -> None:
        """Return at the next change."""

    def close(self) -> None:
        """Stop following."""


EndCall = Callable[[str, str], Awaitable[object]]
"""Ends a call: (session id, reason)."""


async def still_allowed(session: LiveSession) -> bool:
    """Whether the call's account may still watch; a check that cannot run says no."""
    check = session.still_allowed
    try:
        return check is None or await check()
    except Exception as exc:  # fail closed: a check that cannot run ends the call
        _log.warning("live view %s: access check failed: %s", session.id[:8], exc)
        return False


class AccessWatch:
    """Ends the calls in `sessions` whose account lost access, through `end`."""

    def __init__(self, sessions: Mapping[str, LiveSession], end: EndCall) -> None:
        self._sessions = sessions
        self._end = end
        self._recheck: asyncio.Task[None] | None = None
        self._followers: dict[str, tuple[asyncio.Task[None], AccessFollow]] = {}

    def watching(self) -> None:
        """A call was added: make sure the periodic re-check runs."""
        if self._recheck is None or self._recheck.done():
            self._recheck = asyncio.create_task(self._recheck_all(), name="live-recheck")

    def follow(self, session_id: str, access: AccessFollow) -> None:
        """End the call as soon as its account loses access (sign-out, disable, role, password
        or grant change), not only at the next periodic re-check."""
        if session_id not in self._sessions:
            access.close()
            return
        task = asyncio.create_task(self._follow(session_id, access), name="live-follow")
        self._followers[session_id] = (task, access)

    def unfollow(self, session_id: str) -> None:
        """The call ended: stop following it (from its own follower too)."""
        follower = self._followers.pop(session_id, None)
        if follower is None:
            return
        task, access = follower
        access.close()
        if task is not asyncio.current_task():
            task.cancel()

    def close(self) -> None:
        """Stop the periodic re-check (shutdown; ending the calls unfollows them)."""
        if self._recheck is not None:
            self._recheck.cancel()

    async def _follow(self, session_id: str, access: AccessFollow) -> None:
        while (session := self._sessions.get(session_id)) is not None:
            if not access.stale:
                await access.wait()
            access.stale = False
            if not await still_allowed(session):
                _log.info("live view %s ended: access revoked", session_id[:8])
                await self._end(session_id, "access revoked")
                return

    async def _recheck_all(self) -> None:
        while self._sessions:
            await asyncio.sleep(RECHECK_S)
            revoked = []
            for session in list(self._sessions.values()):
                if not await still_allowed(session):
                    _log.info("live view %s ended: access revoked", session.id[:8])
                    revoked.append(self._end(session.id, "access revoked"))
            await asyncio.gather(*revoked)
