"""What the façade hands out about cameras: typed views that never carry a credential."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class StreamView(BaseModel):
    """A stream the camera offers (no address: it may carry a path the camera keeps private)."""

    name: str
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None


class RecordingView(BaseModel):
    """What a camera's recorder is doing: recording, idle, paused (disk full), error, off."""

    state: str
    reason: str | None = None


class CameraView(BaseModel):
    """A camera as the UI sees it; credentials are never part of it."""

    id: str
    name: str
    driver: str
    host: str
    port: int | None
    state: str
    reason: str | None = Field(
        description="The raw reason from the driver or supervisor, for a details toggle."
    )
    status_text: str = Field(
        default="",
        description="The state in plain words for a person (plain text, never HTML), e.g. "
        "'Online', 'Connecting…', 'Can't reach the camera at 192.168.1.40 — is it powered "
        "and on the network?'.",
    )
    hint: str | None = Field(
        default=None, description="What the owner can do about it (plain text); None: nothing."
    )
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
    recording: RecordingView | None = Field(
        default=None, description="Its recorder's state (None: recording has not started)."
    )
    live_stream: str = Field(
        default="main", description="The stream live view opens: 'main' or 'sub'."
    )
    source: Literal["config", "adopted"] = Field(
        default="adopted",
        description="'config': declared in config.yaml (changes made here are stored as "
        "overrides of the file's values); 'adopted': added from the UI or the CLI.",
    )
    editable: list[str] = Field(
        default_factory=list,
        description="What PATCH /api/cameras/{id} may change for this caller (empty unless "
        "the caller is the owner): 'name', 'enabled', 'live_stream' (only while the camera "
        "offers a main and a sub stream), 'rtsp_allow_basic', 'username', 'password', and "
        "'options.<name>' for each option the camera's driver declares.",
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


class CameraSettingsView(BaseModel):
    """A camera's settings as its settings form shows them (the owner's view; no password)."""

    id: str
    source: Literal["config", "adopted"]
    name: str
    enabled: bool
    live_stream: str
    streams: list[str] = Field(
        description="The streams the camera offers now (empty while it is not online)."
    )
    rtsp_allow_basic: bool
    username: str | None
    password_set: bool = Field(description="A password is stored (it is never shown).")
    options: dict[str, Any] = Field(description="The driver options set for this camera.")
    recording: dict[str, Any] = Field(
        description="This camera's own recording settings (mode, audio, preroll_s, postroll_s, "
        "events, clip_days, continuous_days); a field left out follows the gateway's default."
    )
    recording_defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="The gateway's defaults those fields follow (Settings → Recording, Retention).",
    )
    options_schema: dict[str, Any] | None = Field(
        description="JSON Schema of the driver's options (types, defaults, descriptions); "
        "None when the driver declares none (its options cannot be edited here)."
    )
    overridden: list[str] = Field(
        description="For a camera from config.yaml: the fields whose value was set here and "
        "replaces the file's (an edit of that field in the file wins again)."
    )
    editable: list[str]
