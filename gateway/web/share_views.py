"""What the shares API says: the owner's view of a share, and the watcher's (public) view."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from doorstep.gateway.sharing.location import Place
from doorstep.gateway.sharing.service import ShareState
from doorstep.gateway.storage import ShareAccessRecord, ShareItemRecord


class PlaceView(BaseModel):
    """The coarse place of a share: one fixed cell for the household, and its label."""

    cell: str = Field(description="H3 cell, resolution 8 (about 0.7 km²)")
    label: str
    area_km2: float
    outline: list[tuple[float, float]] = Field(description="The cell's corners (lat, lon)")


class ShareItemView(BaseModel):
    """One shared clip's copy, as the owner sees it."""

    position: int
    clip_id: str
    state: str = Field(description="pending, working, ready or failed")
    progress: float = Field(description="How far the copy has come, 0..1")
    error: str | None
    recorded_at: datetime = Field(description="When it was recorded, to the minute")
    start_s: float
    end_s: float | None
    exact: bool
    masks: list[dict[str, float | str]]
    duration_s: float
    width: int | None
    height: int | None
    has_audio: bool
    size_bytes: int
    sha256: str | None
    derivation: dict[str, object] | None
    poster: str | None
    video: str | None


class AccessView(BaseModel):
    """One view or download of a share (coarse client only: no address)."""

    at: datetime
    kind: str
    via: str
    account: str | None
    client: str


class RecipientView(BaseModel):
    """A neighbour account a share is addressed to."""

    id: int
    username: str


class ShareView(BaseModel):
    """A share as the owner's Shares page shows it."""

    id: str
    title: str
    description: str
    category: str
    status: str = Field(description="preparing, active, limit_reached, expired, revoked, failed")
    audio: bool
    link: bool = Field(description="Whether it has a link (shown once, when created)")
    household: str | None
    created_at: datetime
    expires_at: datetime
    view_limit: int | None
    views: int
    downloads: int
    place: PlaceView | None
    recipients: list[RecipientView]
    items: list[ShareItemView]
    accesses: list[AccessView] = Field(default_factory=list)


class ShareList(BaseModel):
    """Every share, newest first."""

    shares: list[ShareView]


class LinkView(BaseModel):
    """The share's link: shown this once (only its hash is kept)."""

    url: str
    qr_data_uri: str


class CreatedShare(BaseModel):
    """A new share, and its link if it has one."""

    share: ShareView
    link: LinkView | None


class PublicItem(BaseModel):
    """One clip of a share as a watcher gets it."""

    position: int
    recorded_at: datetime
    duration_s: float
    width: int | None
    height: int | None
    has_audio: bool
    poster: str
    video: str


class PublicShare(BaseModel):
    """A share as its watchers see it: no camera, no household name unless the owner typed one,
    only the coarse place, times to the minute."""

    status: str = Field(description="active, or preparing (copies not made yet)")
    title: str
    description: str
    category: str
    household: str | None
    place: PlaceView | None
    created_at: datetime
    expires_at: datetime
    items: list[PublicItem]


class FeedEntry(BaseModel):
    """A share addressed to a neighbour account (opening it counts a view)."""

    id: str
    title: str
    category: str
    status: str
    created_at: datetime
    expires_at: datetime
    clips: int
    place: PlaceView | None


class SharedFeed(BaseModel):
    """The shares addressed to this neighbour account, newest first."""

    shares: list[FeedEntry]


def feed_entry(state: ShareState) -> FeedEntry:
    """One share of a neighbour's feed."""
    share = state.record
    return FeedEntry(
        id=share.id, title=share.title, category=share.category,
        status="active" if state.status in ("active", "limit_reached") else state.status,
        created_at=minute(share.created_at), expires_at=minute(share.expires_at),
        clips=len(state.items), place=place_view(share.place_cell, share.place_label),
    )  # fmt: skip


def place_view(cell: str | None, label: str | None) -> PlaceView | None:
    """The coarse place, if the share has one."""
    if cell is None:
        return None
    place = Place(cell, label or "")
    return PlaceView(cell=cell, label=place.label, area_km2=place.area_km2, outline=place.outline)


def minute(moment: datetime) -> datetime:
    """A time to the minute (what a watcher may know of when)."""
    return moment.replace(second=0, microsecond=0)


def item_view(item: ShareItemRecord, progress: float, base: str, removed: bool) -> ShareItemView:
    """A copy as the owner sees it; `base` is where its files are served (none once the share
    ended and its copies were deleted: `removed`)."""
    ready = item.state == "ready" and not removed
    return ShareItemView(
        position=item.position, clip_id=item.clip_id, state=item.state, progress=progress,
        error=item.error, recorded_at=item.recorded_at, start_s=item.start_ms / 1000,
        end_s=None if item.end_ms is None else item.end_ms / 1000, exact=item.exact,
        masks=[dict(m) for m in item.masks], duration_s=item.duration_ms / 1000,
        width=item.width, height=item.height, has_audio=item.has_audio,
        size_bytes=item.size_bytes, sha256=item.sha256, derivation=item.derivation,
        poster=f"{base}/{item.position}/poster" if ready else None,
        video=f"{base}/{item.position}/video" if ready else None,
    )  # fmt: skip


def share_view(
    state: ShareState, progress: dict[int, float], names: dict[int, str],
    accesses: list[ShareAccessRecord] | None = None,
) -> ShareView:  # fmt: skip
    """A share as the owner sees it."""
    share = state.record
    base = f"/api/shares/{share.id}/items"
    return ShareView(
        id=share.id, title=share.title, description=share.description, category=share.category,
        status=state.status, audio=share.audio, link=share.token_hash is not None,
        household=share.household, created_at=share.created_at, expires_at=share.expires_at,
        view_limit=share.view_limit, views=share.views, downloads=share.downloads,
        place=place_view(share.place_cell, share.place_label),
        recipients=[RecipientView(id=u, username=names.get(u, "?")) for u in state.recipients],
        items=[item_view(i, progress.get(i.position, 0.0), base, share.files_removed)
               for i in state.items],
        accesses=[AccessView(at=a.at, kind=a.kind, via=a.via, account=a.account,
                             client=a.client) for a in accesses or []],
    )  # fmt: skip


def public_view(state: ShareState, base: str | None) -> PublicShare:
    """A share as a watcher sees it; `base` is where its media are served for this view (None
    while the copies are made)."""
    share = state.record
    ready = base is not None and state.status in ("active", "limit_reached")
    items = [
        PublicItem(
            position=i.position, recorded_at=minute(i.recorded_at),
            duration_s=i.duration_ms / 1000, width=i.width, height=i.height,
            has_audio=i.has_audio, poster=f"{base}/{i.position}/poster",
            video=f"{base}/{i.position}/video",
        )
        for i in state.items
        if ready
    ]  # fmt: skip
    return PublicShare(
        status="active" if ready else "preparing", title=share.title,
        description=share.description, category=share.category, household=share.household,
        place=place_view(share.place_cell, share.place_label),
        created_at=minute(share.created_at), expires_at=minute(share.expires_at), items=items,
    )  # fmt: skip
