"""Police requests as the owner handles them: what matches, the per-clip decision with its
legal holds and signed receipt, the package and the expiring grant it is downloaded through."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.checkpoints import Checkpointer
from doorstep.gateway.evidence.area import parse_area
from doorstep.gateway.evidence.intake import RequestIntake
from doorstep.gateway.evidence.packages import PackageBuilder, agency_request
from doorstep.gateway.evidence.receipts import receipt_body, sign_receipt
from doorstep.gateway.recording.files import UnsafeClipPath, resolve
from doorstep.gateway.sharing.clock import ShareClock
from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.sharing.places import HomePlaces
from doorstep.gateway.sharing.service import ShareWatch
from doorstep.gateway.sharing.tokens import new_token, token_hash
from doorstep.gateway.storage import (
    ClipRecord,
    Conflict,
    PackageRecord,
    RequestItemRecord,
    RequestRecord,
    Storage,
)

_log = logging.getLogger(__name__)
MAX_CLIP_S = 3600
"""The longest clip recording makes: a clip overlapping a window started at most this before."""
MAX_MATCHES = 500
SWEEP_S = 60.0


class DecisionRefused(ValueError):
    """A decision that cannot be made as asked; `field` names what to change."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PackageNotFound(LookupError):
    """No package to hand out: unknown, not this caller's, or its grant has ended."""


@dataclass(frozen=True, slots=True)
class ClipGrant:
    """The owner's grant of one clip: whole or trimmed to the window, sound, masks, and
    whether the recording as made goes too (else a changed copy leaves the box alone)."""

    clip_id: str
    trim_to_window: bool = True
    audio: bool = False
    masks: tuple[Mask, ...] = ()
    original: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What the owner decided for one request."""

    grants: tuple[ClipGrant, ...]
    declined: tuple[str, ...] = ()
    note: str | None = None
    hold_days: int = 365
    grant_hours: int = 72
    max_downloads: int = 3


@dataclass(frozen=True, slots=True)
class Matching:
    """What the box found for a request (never shown to the agency)."""

    in_area: bool | None
    """None: the home's location is not set."""
    clips: list[ClipRecord]


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision made: the request now, and the package (with its token, shown once)."""

    record: RequestRecord
    package: PackageRecord | None
    token: str | None


class EvidenceService:
    """Requests, decisions, packages and grants."""

    def __init__(
        self, storage: Storage, audit: AuditLog, checkpoints: Checkpointer, places: HomePlaces,
        clip_root: Path, package_root: Path, clock: ShareClock | None = None,
    ) -> None:  # fmt: skip
        self._storage, self._audit, self._checkpoints = storage, audit, checkpoints
        self._places, self._clip_root = places, clip_root
        self.intake = RequestIntake(storage, audit)
        self.builder = PackageBuilder(storage, audit, checkpoints, clip_root, package_root)
        self.clock = clock or ShareClock()
        self.watch = ShareWatch()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Sweep expired requests and grants now and every minute."""
        await asyncio.to_thread(self.builder.root.mkdir, parents=True, exist_ok=True)
        for package in await self._storage.evidence_packages.building():
            await self._resume(package)
        await self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="evidence-sweeper")

    async def stop(self) -> None:
        """Stop the sweeper and any package being built (made again at the next start)."""
        for task in [*self._tasks, *([self._sweeper] if self._sweeper else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, *([self._sweeper] if self._sweeper else []),
                             return_exceptions=True)  # fmt: skip

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception:
                _log.exception("evidence sweep failed; trying again in a minute")

    async def sweep(self) -> None:
        """Expire unanswered requests; end grants past their time (each an audit row)."""
        now = self.clock.now()
        await self.intake.expire(now)
        for package in await self._storage.evidence_packages.end_expired(now):
            self.watch.changed(package.id)
            await self._audit.append("gateway", "evidence.grant_ended", f"package:{package.id}",
                                     detail={"request": package.request_id})  # fmt: skip

    async def in_area(self, record: RequestRecord) -> bool | None:
        """Whether the home lies in the request's area (None: its location is not set)."""
        home = await self._places.home()
        if home is None or record.status == "refused":
            return None
        return parse_area(record.form["area"]).contains(home.latitude, home.longitude)

    async def matching_ids(self, record: RequestRecord) -> list[str]:
        """The clips of the window, every camera, oldest first (one indexed query)."""
        if record.status == "refused" or record.window_start is None or record.window_end is None:
            return []
        return await self._storage.clips.overlapping_ids(
            record.window_start, record.window_end,
            record.window_start - timedelta(seconds=MAX_CLIP_S), MAX_MATCHES,
        )  # fmt: skip

    async def matching(self, record: RequestRecord) -> Matching:
        """Whether the home is in the area, and the clips of the window (for the owner)."""
        clips = await self._storage.clips.many(await self.matching_ids(record))
        return Matching(await self.in_area(record), clips)

    async def decide(self, request_id: str, decision: Decision, by: str, ip: str) -> Decided:
        """Record the owner's decision; granted masters are held; a package is started."""
        record = await self._storage.police_requests.get(request_id)
        if record is None:
            raise LookupError(request_id)
        if record.status != "pending":
            raise Conflict(f"the request is {record.status}, not waiting for a decision")
        ids = set(await self.matching_ids(record))
        _check(decision, ids)
        matching = {}
        for grant in decision.grants:
            clip = await self._storage.clips.get(grant.clip_id)
            if clip is None:
                raise DecisionRefused("grants", f"clip {grant.clip_id} is gone")
            matching[clip.id] = clip
        now = self.clock.now()
        items = [_item(record, n, g, matching[g.clip_id]) for n, g in enumerate(decision.grants)]
        status = ("declined" if not items else "granted"
                  if len(items) == len(ids) else "partial")  # fmt: skip
        hold_until = now + timedelta(days=decision.hold_days) if items else None
        await self._storage.police_requests.decide(request_id, status, by, now, decision.note,
                                                   items)  # fmt: skip
        for item in items:
            await self._storage.holds.hold(
                item.clip_id, f"police request {request_id} (case {record.case_number})",
                hold_until, by, now, request_id=request_id, legal=True,
            )  # fmt: skip
        granted = [{"clip_id": i.clip_id, "start_ms": i.start_ms, "end_ms": i.end_ms,
                    "audio": i.audio, "masks": list(i.masks), "original": i.original}
                   for i in items]  # fmt: skip
        entry = await self._audit.append(
            by, "request.decided", f"request:{request_id}", ip=ip,
            detail={"status": status, "granted": [i.clip_id for i in items],
                    "declined": len(decision.declined),
                    "hold_until": hold_until.isoformat() if hold_until else None},
        )  # fmt: skip
        await self._storage.police_requests.note_audit(request_id, entry.seq)
        summary = {"status": status, "granted": granted, "declined": list(decision.declined),
                   "hold_until": hold_until}  # fmt: skip
        decided = await self._storage.police_requests.get(request_id)
        if decided is None:
            raise LookupError(request_id)
        if not items:
            await self._decline_receipt(decided, summary, by)
            return Decided(decided, None, None)
        token = new_token()
        package = PackageRecord(
            id=secrets.token_urlsafe(12), request_id=request_id, state="building",
            created_at=now, created_by=by, expires_at=now + timedelta(hours=decision.grant_hours),
            max_downloads=decision.max_downloads, token_hash=token_hash(token),
        )  # fmt: skip
        package = replace(package, decision=_stored(summary))
        await self._storage.evidence_packages.add(package)
        self._make(decided, package, summary, by)
        return Decided(decided, package, token)

    def _make(self, record: RequestRecord, package: PackageRecord, summary: dict[str, Any],
              by: str) -> None:  # fmt: skip
        task = asyncio.create_task(self.builder.build(record, package, summary, by),
                                   name=f"evidence-{package.id}")  # fmt: skip
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resume(self, package: PackageRecord) -> None:
        """Make a package a stop interrupted again, under the same grant and link."""
        why = "the gateway stopped while it was being made"
        record = await self._storage.police_requests.get(package.request_id)
        if record is None or not package.decision:
            await self._storage.evidence_packages.failed(package.id, why)
            await self._audit.append("gateway", "evidence.failed", f"package:{package.id}",
                                     outcome="failed", detail={"reason": why})  # fmt: skip
            return
        await self._audit.append("gateway", "evidence.retry", f"package:{package.id}",
                                 detail={"request": record.id, "reason": why})  # fmt: skip
        self._make(record, package, _summary(package.decision), package.created_by)

    async def make_again(self, package_id: str, by: str, ip: str) -> PackageRecord:
        """The owner asks for a failed package to be made again (same grant, same link);
        `Conflict` if it did not fail or its grant has ended."""
        package = await self._storage.evidence_packages.get(package_id)
        record = None if package is None else await self._storage.police_requests.get(
            package.request_id)  # fmt: skip
        if package is None or record is None:
            raise PackageNotFound()
        if not package.decision or self.clock.now() >= package.expires_at:
            raise Conflict("this package's download grant has ended: it cannot be made again")
        if not await self._storage.evidence_packages.make_again(package_id):
            raise Conflict("only a package that could not be made, with its grant open, "
                           "is made again")  # fmt: skip
        await self._audit.append(
            by,
            "evidence.retry",
            f"package:{package_id}",
            ip=ip,
            detail={"request": record.id, "reason": "asked by the owner"},
        )
        self._make(record, package, _summary(package.decision), by)
        return replace(package, state="building", error=None)

    async def _decline_receipt(self, record: RequestRecord, summary: dict[str, Any],
                               by: str) -> None:  # fmt: skip
        key = self._checkpoints.key
        body = receipt_body(
            request=agency_request(record), decision=summary["status"],
            decided_at=record.decided_at or self.clock.now(), decided_by=by, granted=[],
            declined=summary["declined"], hold_until=None, key=key.public,
        )  # fmt: skip
        text, signature = sign_receipt(key, body)
        await self._storage.police_requests.add_receipt(
            record.id, self.clock.now(), text, signature, key.public.fingerprint
        )

    async def settled(self) -> None:
        """Wait for the packages being built (tests and shutdown)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # The grant: every request (each Range request too) is judged by `open_package`.

    async def open_package(
        self, package: PackageRecord | None, *, first: bool
    ) -> tuple[PackageRecord, Path]:
        """The package's file if its grant allows this request now; a download's first request
        (from byte 0) is counted. `PackageNotFound` otherwise, whatever the reason."""
        now = self.clock.now()
        if package is None or package.state != "ready" or package.file is None:
            raise PackageNotFound()
        if (
            package.revoked_at is not None
            or package.ended_at is not None
            or now >= package.expires_at
        ):
            raise PackageNotFound()
        if first and not await self._storage.evidence_packages.count_download(package.id, now):
            raise PackageNotFound()
        if not first and package.downloads < 1:
            raise PackageNotFound()
        try:
            path = await asyncio.to_thread(resolve, self.builder.root, package.file)
        except UnsafeClipPath:
            raise PackageNotFound() from None
        return package, path

    async def still_open(self, package_id: str) -> bool:
        """Whether a send under way may go on."""
        package = await self._storage.evidence_packages.get(package_id)
        now = self.clock.now()
        return (package is not None and package.revoked_at is None
                and package.ended_at is None and now < package.expires_at)  # fmt: skip

    async def revoke(self, package_id: str, by: str, ip: str) -> bool:
        """End a grant now (a send under way stops within a second)."""
        ended = await self._storage.evidence_packages.revoke(package_id, self.clock.now())
        if ended:
            self.watch.changed(package_id)
            await self._audit.append(by, "evidence.revoked", f"package:{package_id}", ip=ip)
        return ended


def _check(decision: Decision, matching: set[str]) -> None:
    seen: set[str] = set()
    for n, grant in enumerate(decision.grants):
        if grant.clip_id not in matching:
            raise DecisionRefused(f"grants[{n}].clip_id", "not a clip this request matches")
        if grant.clip_id in seen:
            raise DecisionRefused(f"grants[{n}].clip_id", "granted twice")
        seen.add(grant.clip_id)
    for n, clip_id in enumerate(decision.declined):
        if clip_id not in matching:
            raise DecisionRefused(f"declined[{n}]", "not a clip this request matches")
        if clip_id in seen:
            raise DecisionRefused(f"declined[{n}]", "both granted and declined")
    if not 1 <= decision.hold_days <= 3650:
        raise DecisionRefused("hold_days", "a legal hold lasts 1 to 3650 days")
    if not 1 <= decision.grant_hours <= 720:
        raise DecisionRefused("grant_hours", "a download grant lasts 1 hour to 30 days")
    if not 1 <= decision.max_downloads <= 20:
        raise DecisionRefused("max_downloads", "1 to 20 downloads")


def _stored(summary: dict[str, Any]) -> dict[str, Any]:
    """A decision's summary as the package row keeps it (JSON)."""
    hold = summary["hold_until"]
    return summary | {"hold_until": None if hold is None else hold.isoformat()}


def _summary(stored: dict[str, Any]) -> dict[str, Any]:
    """The summary a package is made from, back from its row."""
    hold = stored.get("hold_until")
    return stored | {"hold_until": None if hold is None else datetime.fromisoformat(hold)}


def _item(record: RequestRecord, n: int, grant: ClipGrant, clip: ClipRecord) -> RequestItemRecord:
    start_ms, end_ms = 0, None
    if grant.trim_to_window and record.window_start and record.window_end:
        start_ms = max(0, int((record.window_start - clip.started_at).total_seconds() * 1000))
        end = int((record.window_end - clip.started_at).total_seconds() * 1000)
        end_ms = end if end < clip.duration_ms else None
        start_ms = min(start_ms, max(0, clip.duration_ms - 1))
    masks = tuple({"x": m.x, "y": m.y, "w": m.w, "h": m.h, "style": m.style} for m in grant.masks)
    return RequestItemRecord(record.id, clip.id, n, grant.audio, clip.path, clip.sha256 or "",
                             start_ms, end_ms, masks, grant.original)  # fmt: skip
