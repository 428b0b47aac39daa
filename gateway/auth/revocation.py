"""Tells every long-lived channel (event stream, live call, talk, later playback) at once that
an account's access may have changed, so it re-checks before it delivers anything more.

Checking only on a timer let a server-push stream deliver 24 more events after a grant was
withdrawn. Account changes call `changed()` right after they commit; each channel holds an
`AccessWatcher` whose `stale` flag is set synchronously (re-check before the next delivery) and
whose `wait()` returns at once (so an idle channel can end within a second too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator


class AccessWatcher:
    """One channel's view of its account's changes; close it when the channel ends."""

    def __init__(self, changes: AccessChanges, user_id: int) -> None:
        self.user_id = user_id
        self.stale = False
        """True from a change until the channel has re-checked (it clears it)."""
        self._changes = changes
        self._event = asyncio.Event()

    def _notify(self) -> None:
        self.stale = True
        self._event.set()

    async def wait(self) -> None:
        """Return when the account changed since the last `wait()` returned."""
        await self._event.wait()
        self._event.clear()

    def close(self) -> None:
        """Stop watching (idempotent)."""
        self._changes._forget(self)

    def __enter__(self) -> AccessWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AccessChanges:
    """The registry of watchers, by account."""

    def __init__(self) -> None:
        self._watchers: dict[int, set[AccessWatcher]] = {}

    def watch(self, user_id: int) -> AccessWatcher:
        """A watcher for one account's changes."""
        watcher = AccessWatcher(self, user_id)
        self._watchers.setdefault(user_id, set()).add(watcher)
        return watcher

    def changed(self, user_id: int) -> None:
        """An account's sessions, role, grants, password or state changed: re-check now."""
        for watcher in self._watchers.get(user_id, ()):
            watcher._notify()

    def changed_all(self) -> None:
        """Something every account's access depends on changed (a camera was removed)."""
        for watcher in self._all():
            watcher._notify()

    def _all(self) -> Iterator[AccessWatcher]:
        for watchers in list(self._watchers.values()):
            yield from list(watchers)

    def count(self, user_id: int | None = None) -> int:
        """Open watchers (of one account, or of all)."""
        if user_id is not None:
            return len(self._watchers.get(user_id, ()))
        return sum(len(w) for w in self._watchers.values())

    def _forget(self, watcher: AccessWatcher) -> None:
        watchers = self._watchers.get(watcher.user_id)
        if watchers is None:
            return
        watchers.discard(watcher)
        if not watchers:
            del self._watchers[watcher.user_id]
