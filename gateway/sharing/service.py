"""Shares: what the owner creates, revokes, extends and deletes, and who may watch them.

Every way in (a link's token, a neighbour's account) ends in `_opened`, which judges the share
by `ShareClock` on every request: revocation and expiry hold from the next request on, a Range
request of a playing video included. Whatever the reason a link is refused (unknown, expired,
revoked, view limit reached), it is refused with the same `ShareNotFound` after the same work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.events import ShareAccessed
from doorstep.gateway.recording.files import UnsafeClipPath, resolve
from doorstep.gateway.sharing.clock import ShareClock
from doorstep.gateway.sharing.derivations import Derivations
from doorstep.gateway.sharing.location import Place
from doorstep.gateway.sharing.places import HomePlaces
from doorstep.gateway.sharing.specs import NewShare, ShareRefused, validate
from doorstep.gateway.sharing.tokens import new_token, new_view_key, same_hash, token_hash
from doorstep.gateway.storage import ShareItemRecord, ShareRecord, Storage

_log = logging.getLogger(__name__)

SWEEP_S = 30.0
"""How often expired shares are marked ended (and their copies deleted)."""
CLOCK_KEY = "sharing.clock"
SHARES_DIR = "shares"
"""The shares' copies, under the data directory (never beside the masters)."""


_NOBODY = ShareRecord("", "", "other", False, "", datetime.min.replace(tzinfo=UTC),
                      datetime.min.replace(tzinfo=UTC))  # fmt: skip
"""Stands in for an unknown token's share, so refusing it reads what refusing a known one does."""


def _minute(moment: datetime) -> datetime:
    """When a shared clip was recorded, as a watcher may know it: to the minute."""
    return moment.replace(second=0, microsecond=0)


class ShareNotFound(Exception):
    """No share to show: unknown, or not (any more) one the caller may watch."""


class ShareEnded(Exception):
    """The share has ended (revoked or expired): it cannot be changed any more."""


@dataclass(frozen=True, slots=True)
class ShareState:
    """A share with its copies, and what it is now."""

    record: ShareRecord
    items: list[ShareItemRecord]
    status: str
    """preparing, active, limit_reached, expired, revoked or failed."""
    recipients: list[int]


@dataclass(frozen=True, slots=True)
class Opened:
    """A share someone may watch now, and the key their player fetches its media with."""

    state: ShareState
    view_key: str


def status_of(share: ShareRecord, items: list[ShareItemRecord], now: datetime) -> str:
    """What a share is at `now`."""
    if share.revoked_at is not None:
        return "revoked"
    if share.ended_at is not None or now >= share.expires_at:
        return "expired"
    if any(i.state == "failed" for i in items):
        return "failed"
    if any(i.state != "ready" for i in items):
        return "preparing"
    if share.view_limit is not None and share.views >= share.view_limit:
        return "limit_reached"
    return "active"


class ShareWatch:
    """Wakes a long send when its share changes (revoked, deleted, extended)."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}

    @contextlib.contextmanager
    def watch(self, share_id: str) -> Iterator[asyncio.Event]:
        """An event set at the share's next change, for as long as the block runs."""
        event = asyncio.Event()
        self._events.setdefault(share_id, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._events.get(share_id, set())
            waiting.discard(event)
            if not waiting:
                self._events.pop(share_id, None)

    def changed(self, share_id: str) -> None:
        """Wake everyone watching the share."""
        for event in self._events.get(share_id, ()):
            event.set()


class ShareService:
    """Creating, listing and ending shares; opening them by link or by account."""

    def __init__(
        self, storage: Storage, audit: AuditLog, refusals: RefusalAudit, bus: EventBus,
        clip_root: Path, share_root: Path, clock: ShareClock | None = None,
    ) -> None:  # fmt: skip
        self._storage = storage
        self._audit = audit
        self._refusals = refusals
        self._bus = bus
        self._clip_root = clip_root
        self.clock = clock or ShareClock()
        self.places = HomePlaces(storage.settings, audit)
        self.derivations = Derivations(storage, clip_root, share_root, self._copy_made)
        self.watch = ShareWatch()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the clock's high-water mark, resume copies a restart interrupted, sweep."""
        stored = await self._storage.settings.get(CLOCK_KEY)
        if stored is not None:
            with contextlib.suppress(ValueError, TypeError):
                self.clock.high_water = max(self.clock.high_water,
                                            datetime.fromisoformat(stored.value))  # fmt: skip
        for item in await self._storage.shares.unfinished_items():
            self.derivations.add(item)
        self.derivations.start()
        await self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="share-sweeper")

    async def stop(self) -> None:
        """Stop sweeping and making copies."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.derivations.stop()
        with contextlib.suppress(Exception):
            await self._save_clock()

    async def _save_clock(self) -> None:
        now = self.clock.now()
        await self._storage.settings.put(CLOCK_KEY, now.isoformat(), now, "gateway")

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception as exc:  # a failed pass must not end sweeping
                _log.error("share sweep failed: %s", type(exc).__name__)

    async def sweep(self) -> None:
        """Mark expired shares ended (audited once), delete the copies of ended shares."""
        await self._save_clock()
        for share in await self._storage.shares.end_expired(self.clock.now()):
            await self._audit.append("gateway", "share.expired", f"share:{share.id}",
                                     detail={"title": share.title})  # fmt: skip
            self.watch.changed(share.id)
        for share in await self._storage.shares.ended_with_files():
            await asyncio.to_thread(self.derivations.remove_files, share.id)
            await self._storage.shares.set_files_removed(share.id)

    # The owner's side.

    async def create(self, new: NewShare, by: str, ip: str) -> tuple[ShareState, str | None]:
        """Create a share and queue its copies; returns it and its link's token (shown once)."""
        now = self.clock.now()
        clips = {c.id: c for c in [await self._storage.clips.get(i.clip_id) for i in new.items]
                 if c is not None and c.state == "ok"}  # fmt: skip
        neighbours = {u.id for u in await self._storage.users.list()
                      if u.role == "neighbour" and not u.disabled}  # fmt: skip
        validate(new, clips, neighbours)
        place: Place | None = await self.places.place()
        token = new_token() if new.link else None
        share = ShareRecord(
            id=secrets.token_urlsafe(12), title=new.title, category=new.category,
            audio=new.audio, created_by=by, created_at=now, expires_at=now + new.expires_in,
            description=new.description, token_hash=token_hash(token) if token else None,
            place_cell=place.cell if place else None, place_label=place.label if place else None,
            household=new.household, view_limit=new.view_limit,
        )  # fmt: skip
        items = [
            ShareItemRecord(
                share.id, n, spec.clip_id, _minute(clips[spec.clip_id].started_at
                + timedelta(milliseconds=spec.start_ms)), spec.start_ms, spec.end_ms, spec.exact,
                tuple({"x": m.x, "y": m.y, "w": m.w, "h": m.h, "style": m.style}
                      for m in spec.masks),
            )
            for n, spec in enumerate(new.items)
        ]  # fmt: skip
        await self._storage.shares.add(share, items, sorted(new.recipients))
        await self._audit.append(by, "share.create", f"share:{share.id}", ip=ip, detail={
            "clips": [i.clip_id for i in new.items], "link": token is not None,
            "recipients": sorted(new.recipients), "expires_at": share.expires_at.isoformat(),
            "view_limit": new.view_limit, "audio": new.audio, "category": new.category,
            "masks": sum(len(i.masks) for i in new.items),
        })  # fmt: skip
        for item in items:
            self.derivations.add(item)
        state = await self.get(share.id)
        if state is None:
            raise ShareNotFound(share.id)
        return state, token

    async def _copy_made(self, share_id: str) -> None:
        state = await self.get(share_id)
        if state is None or state.status not in ("active", "failed"):
            return
        action = "share.ready" if state.status == "active" else "share.failed"
        await self._audit.append("gateway", action, f"share:{share_id}", detail={
            "derivations": [i.derivation for i in state.items if i.derivation],
            "failed": [i.error for i in state.items if i.state == "failed"],
        })  # fmt: skip
        self.watch.changed(share_id)

    async def get(self, share_id: str) -> ShareState | None:
        """One share, with its copies and status."""
        share = await self._storage.shares.get(share_id)
        return None if share is None else await self._state(share)

    async def _state(self, share: ShareRecord) -> ShareState:
        items = await self._storage.shares.items(share.id)
        recipients = await self._storage.shares.recipients(share.id)
        return ShareState(share, items, status_of(share, items, self.clock.now()), recipients)

    async def newest(self) -> list[ShareState]:
        """Every share, newest first (the owner's list)."""
        return [await self._state(s) for s in await self._storage.shares.newest()]

    async def revoke(self, share_id: str, by: str, ip: str) -> ShareState:
        """End a share now: the next request of anyone watching it is refused."""
        if await self._storage.shares.get(share_id) is None:
            raise ShareNotFound(share_id)
        if not await self._storage.shares.revoke(share_id, self.clock.now(), by):
            raise ShareEnded(share_id)
        self.watch.changed(share_id)
        await self._audit.append(by, "share.revoke", f"share:{share_id}", ip=ip)
        await self.sweep()  # its copies go now
        return await self._must(share_id)

    async def extend(self, share_id: str, days: float, by: str, ip: str) -> ShareState:
        """Give an open share a new expiry, `days` from now."""
        if await self._storage.shares.get(share_id) is None:
            raise ShareNotFound(share_id)
        if not 1 / 24 <= days <= 30:
            raise ShareRefused("expires_in_days", "between 1 hour and 30 days from now")
        now = self.clock.now()
        until = now + timedelta(days=days)
        if not await self._storage.shares.extend(share_id, until, now):
            raise ShareEnded(share_id)
        self.watch.changed(share_id)
        await self._audit.append(by, "share.extend", f"share:{share_id}", ip=ip,
                                 detail={"expires_at": until.isoformat()})  # fmt: skip
        return await self._must(share_id)

    async def delete(self, share_id: str, by: str, ip: str) -> None:
        """Forget a share and delete its copies."""
        share = await self._storage.shares.get(share_id)
        if share is None or not await self._storage.shares.delete(share_id):
            raise ShareNotFound(share_id)
        self.watch.changed(share_id)
        await asyncio.to_thread(self.derivations.remove_files, share_id)
        await self._audit.append(by, "share.delete", f"share:{share_id}", ip=ip,
                                 detail={"title": share.title})  # fmt: skip

    async def _must(self, share_id: str) -> ShareState:
        state = await self.get(share_id)
        if state is None:
            raise ShareNotFound(share_id)
        return state

    # The watchers' side.

    async def by_token(self, token: str) -> ShareState:
        """The share a link's token opens, if it may be watched now; else `ShareNotFound`
        (the same for every reason)."""
        hashed = token_hash(token)
        share = await self._storage.shares.by_token_hash(hashed)
        # An unknown token costs the same reads as a known one: no timing tells them apart.
        state = await self._state(share or _NOBODY)
        if share is None or share.token_hash is None or not same_hash(
            share.token_hash, hashed
        ) or state.status not in ("active", "limit_reached", "preparing"):  # fmt: skip
            raise ShareNotFound("no such share")
        return state

    async def for_account(self, user_id: int, share_id: str) -> ShareState:
        """A share addressed to this account, if it may be watched now."""
        state = await self.get(share_id)
        if state is None or user_id not in state.recipients or state.status not in (
            "active", "limit_reached", "preparing",
        ):  # fmt: skip
            raise ShareNotFound("no such share")
        return state

    async def shared_with(self, user_id: int) -> list[ShareState]:
        """The open shares addressed to an account (a neighbour's feed)."""
        found = [await self._state(s) for s in await self._storage.shares.for_recipient(user_id)]
        return [s for s in found if s.status in ("active", "limit_reached", "preparing")]

    async def open(
        self, state: ShareState, via: str, account: str | None, client: str, ip: str
    ) -> Opened:
        """Count one view (within the view limit, atomically) and give its player a key."""
        key = new_view_key()
        if state.status != "active" or not await self._storage.shares.count_view(
            state.record.id, self.clock.now(), via, account, client, token_hash(key)
        ):  # fmt: skip
            raise ShareNotFound("no such share")
        await self._accessed(state.record, "view", via, account, client, ip)
        return Opened(await self._must(state.record.id), key)

    async def media(self, state: ShareState, view_key: str, position: int) -> ShareItemRecord:
        """The ready copy at `position`, for a player holding a counted view's key."""
        item = next((i for i in state.items if i.position == position), None)
        if (
            state.status not in ("active", "limit_reached")
            or item is None
            or item.state != "ready"
            or not await self._storage.shares.has_view(state.record.id, token_hash(view_key))
        ):
            raise ShareNotFound("no such share")
        return item

    async def downloaded(
        self, state: ShareState, via: str, account: str | None, client: str, ip: str
    ) -> None:
        """Record a download (the owner is told)."""
        await self._storage.shares.count_download(state.record.id, self.clock.now(), via,
                                                  account, client)  # fmt: skip
        await self._accessed(state.record, "download", via, account, client, ip)

    async def _accessed(self, share: ShareRecord, kind: str, via: str, account: str | None,
                        client: str, ip: str) -> None:  # fmt: skip
        now = self.clock.now()
        await self._audit.append(account or "anonymous", f"share.{kind}", f"share:{share.id}",
                                 ip=ip, detail={"via": via, "client": client})  # fmt: skip
        self._bus.publish(ShareAccessed(share.id, share.title, kind, via, client, now))

    def refused(self, ip: str) -> None:
        """Count a refused link (aggregated in the audit log; never the token itself)."""
        self._refusals.record("anonymous", "share.refused", "denied", ip)

    async def file(self, relative: str) -> Path:
        """A copy's file (or poster) under the shares directory, never through a symlink."""
        try:
            path = await asyncio.to_thread(resolve, self.derivations.share_root, relative)
        except UnsafeClipPath:
            raise ShareNotFound("no such file") from None
        if not await asyncio.to_thread(path.is_file):
            raise ShareNotFound("no such file")
        return path

    def progress(self, state: ShareState) -> dict[int, float]:
        """How far each copy being made has come (0..1)."""
        found: dict[int, float] = {}
        for item in state.items:
            done = self.derivations.progress.get((item.share_id, item.position))
            found[item.position] = 1.0 if item.state == "ready" else done or 0.0
        return found

    def detail(self) -> dict[str, Any]:
        """What the health page may say of sharing."""
        return {"copies_queued": len(self.derivations.progress)}
