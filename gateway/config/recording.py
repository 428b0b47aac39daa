"""How cameras record: the defaults for every camera, and what one camera may change."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from doorstep.gateway.config.fields import Section

RecordingMode = Literal["events", "continuous", "off"]
EventKindName = Literal[
    "motion", "doorbell", "person", "vehicle", "animal", "package", "line_crossing",
    "intrusion", "loitering", "tamper", "scene_change", "audio", "digital_input",
]  # fmt: skip


DEFAULT_EVENT_KINDS: tuple[EventKindName, ...] = (
    "motion",
    "person",
    "vehicle",
    "animal",
    "doorbell",
)


class RecordingConfig(Section):
    """Recording defaults for every camera (each camera's `recording:` can change them)."""

    mode: RecordingMode = Field(
        "events",
        title="Mode",
        description="`events`: record while a chosen event is active (a doorbell press always "
        "records); `continuous`: around the clock in segments; `off`: never.",
    )
    events: list[EventKindName] = Field(
        default_factory=lambda: list(DEFAULT_EVENT_KINDS),
        max_length=20,
        title="Event kinds that record",
        description="In `events` mode, these start a clip.",
    )
    preroll_s: float = Field(
        5.0, ge=0, le=30, title="Pre-roll (s)", description="Video kept from before the event."
    )
    postroll_s: float = Field(
        10.0, ge=0, le=300, title="Post-roll (s)", description="Kept after the last event ends."
    )
    max_clip_s: float = Field(
        300.0, ge=10, le=3600, title="Longest clip (s)",
        description="Longer activity is split into consecutive clips, without a gap.",
    )  # fmt: skip
    segment_s: float = Field(
        600.0, ge=10, le=3600, title="Segment length (s)",
        description="In `continuous` mode, each file holds this much.",
    )  # fmt: skip
    audio: bool = Field(
        True, title="Record audio", description="Keep the camera's sound (made into AAC)."
    )


class CameraRecordingConfig(Section):
    """One camera's changes to the recording defaults; what is left out keeps the default."""

    mode: RecordingMode | None = Field(None, title="Mode", description="This camera's mode.")
    events: list[EventKindName] | None = Field(
        None, max_length=20, title="Event kinds that record", description="This camera's kinds."
    )
    preroll_s: float | None = Field(
        None, ge=0, le=30, title="Pre-roll (s)", description="This camera's pre-roll."
    )
    postroll_s: float | None = Field(
        None, ge=0, le=300, title="Post-roll (s)", description="This camera's post-roll."
    )
    audio: bool | None = Field(None, title="Record audio", description="This camera's sound.")
    clip_days: int | None = Field(
        None, ge=1, le=3650, title="Clip retention (days)",
        description="Event clips of this camera are kept this long.",
    )  # fmt: skip
    continuous_days: int | None = Field(
        None, ge=1, le=3650, title="Continuous retention (days)",
        description="Continuous segments of this camera are kept this long.",
    )  # fmt: skip
