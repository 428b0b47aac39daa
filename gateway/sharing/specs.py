"""What the owner asks for when sharing, and the checks that refuse it with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from doorstep.gateway.sharing.masks import Mask
from doorstep.gateway.storage import ClipRecord

CATEGORIES = ("package_theft", "suspicious_activity", "lost_pet", "vehicle", "other")
DEFAULT_EXPIRY = timedelta(days=7)
MIN_EXPIRY = timedelta(hours=1)
MAX_EXPIRY = timedelta(days=30)
MAX_CLIPS = 10
MAX_MASKS = 8
MAX_COPY_MS = 10 * 60 * 1000
"""A shared clip is at most 10 minutes (trim a continuous segment to what matters)."""
MIN_MASK = 0.01


class ShareRefused(ValueError):
    """A share that cannot be made as asked; `field` names what to change."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One clip of a share: an optional trim (ms from the clip's start) and masks."""

    clip_id: str
    start_ms: int = 0
    end_ms: int | None = None
    exact: bool = False
    """Cut exactly at `start_ms` (re-encodes); otherwise from the keyframe before it."""
    masks: tuple[Mask, ...] = ()


@dataclass(frozen=True, slots=True)
class NewShare:
    """Everything a new share says, as the owner chose it."""

    title: str
    category: str
    items: tuple[ItemSpec, ...]
    description: str = ""
    audio: bool = False
    expires_in: timedelta = DEFAULT_EXPIRY
    view_limit: int | None = None
    link: bool = True
    recipients: frozenset[int] = field(default_factory=frozenset)
    household: str | None = None


def _check_item(n: int, spec: ItemSpec, clip: ClipRecord | None) -> None:
    where = f"items[{n}]"
    if clip is None:
        raise ShareRefused(f"{where}.clip_id", "no such clip")
    end = clip.duration_ms if spec.end_ms is None else spec.end_ms
    if spec.start_ms < 0 or (clip.duration_ms and spec.start_ms >= clip.duration_ms):
        raise ShareRefused(f"{where}.start_ms", "the trim starts outside the clip")
    if spec.end_ms is not None and spec.end_ms <= spec.start_ms:
        raise ShareRefused(f"{where}.end_ms", "the trim ends before it starts")
    if end - spec.start_ms > MAX_COPY_MS:
        raise ShareRefused(f"{where}.end_ms", "a shared clip is at most 10 minutes: trim it")
    if len(spec.masks) > MAX_MASKS:
        raise ShareRefused(f"{where}.masks", f"at most {MAX_MASKS} masks per clip")
    for m, mask in enumerate(spec.masks):
        inside = 0 <= mask.x < 1 and 0 <= mask.y < 1 and mask.x + mask.w <= 1.0001
        if not inside or mask.y + mask.h > 1.0001 or min(mask.w, mask.h) < MIN_MASK:
            raise ShareRefused(f"{where}.masks[{m}]", "a mask must lie inside the picture")


def validate(new: NewShare, clips: Mapping[str, ClipRecord], neighbours: set[int]) -> None:
    """Refuse a share that cannot be made (`ShareRefused` names the field)."""
    if not new.title.strip():
        raise ShareRefused("title", "give the share a title")
    if new.category not in CATEGORIES:
        raise ShareRefused("category", f"one of {', '.join(CATEGORIES)}")
    if not new.items:
        raise ShareRefused("items", "share at least one clip")
    if len(new.items) > MAX_CLIPS:
        raise ShareRefused("items", f"at most {MAX_CLIPS} clips per share")
    for n, spec in enumerate(new.items):
        _check_item(n, spec, clips.get(spec.clip_id))
    if not MIN_EXPIRY <= new.expires_in <= MAX_EXPIRY:
        raise ShareRefused("expires_in_days", "between 1 hour and 30 days")
    if new.view_limit is not None and new.view_limit < 1:
        raise ShareRefused("view_limit", "at least one view, or no limit")
    if not new.link and not new.recipients:
        raise ShareRefused("recipients", "share by link, with neighbour accounts, or both")
    unknown = new.recipients - neighbours
    if unknown:
        raise ShareRefused("recipients", "only neighbour accounts can receive a share")
