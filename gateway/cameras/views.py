"""What the façade hands out about cameras: typed views that never carry a credential."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StreamView(BaseModel):
    """A stream the camera offers (no address: it may carry a path the camera keeps private)."""

    name: str
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None


class CameraView(BaseModel):
    """A camera as the UI sees it; credentials are never part of it."""

    id: str
    name: str
    driver: str
    host: str
    port: int | None
    state: str
    reason: str | None
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    stable_id: str | None = None
    clock_offset_s: float | None = Field(
        default=None, description="Camera clock minus gateway clock (s); a large one is flagged."
    )
    capabilities: list[str] = Field(default_factory=list)
    streams: list[StreamView] = Field(default_factory=list)
    talk: bool | None = Field(
        default=None, description="Has a speaker for talk (None: unknown until tried)."
    )
    stream_error: str | None = Field(
        default=None,
        description="Why the main stream last failed to open (None: it works, or was not tried).",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What the driver says the owner should know (plain text, never HTML).",
    )


class DiscoveredView(BaseModel):
    """A device that answered discovery, and whether it is adopted already."""

    driver: str
    host: str
    port: int
    endpoint: str | None
    name: str | None
    hardware: str | None
    found_by: str
    adopted: bool
