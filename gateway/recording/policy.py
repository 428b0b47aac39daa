"""How one camera records: its mode, the event kinds that start a clip, and the clip lengths."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.gateway.config.recording import CameraRecordingConfig, RecordingConfig

MODES = ("events", "continuous", "off")
ALWAYS_RECORDED = frozenset({"doorbell"})
"""A doorbell press records whatever kinds are configured: it is the moment users ask for."""


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """One camera's recording settings, as the recorder uses them."""

    mode: str = "events"
    kinds: frozenset[str] = frozenset({"motion", "person", "vehicle", "animal", "doorbell"})
    preroll_s: float = 5.0
    postroll_s: float = 10.0
    max_clip_s: float = 300.0
    segment_s: float = 600.0
    audio: bool = True

    def records(self, kind: str) -> bool:
        """An event of this kind starts (or extends) a clip in `events` mode."""
        return kind in self.kinds or kind in ALWAYS_RECORDED


def policy_from(defaults: RecordingConfig, camera: CameraRecordingConfig | None) -> RecordingPolicy:
    """A camera's policy: the defaults, with what the camera's own settings change."""
    own = camera or CameraRecordingConfig()
    pick = own.model_dump(exclude_none=True)
    return RecordingPolicy(
        mode=pick.get("mode", defaults.mode),
        kinds=frozenset(pick.get("events", defaults.events)),
        preroll_s=pick.get("preroll_s", defaults.preroll_s),
        postroll_s=pick.get("postroll_s", defaults.postroll_s),
        max_clip_s=defaults.max_clip_s,
        segment_s=defaults.segment_s,
        audio=pick.get("audio", defaults.audio),
    )
