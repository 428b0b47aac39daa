"""What one device wants to be told: per camera and kind (ring, motion, person), quiet hours.

The doorbell ring is on unless turned off for a camera; motion and person are off unless
turned on. Quiet hours silence motion and person notifications only: a ring still rings, since
someone is at the door. Times are the gateway's local time.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from doorstep.sdk import EventKind

MAX_CAMERAS = 64


class PushKind(StrEnum):
    """What a notification is about."""

    RING = "ring"
    MOTION = "motion"
    PERSON = "person"


KIND_OF_EVENT = {
    EventKind.DOORBELL: PushKind.RING,
    EventKind.MOTION: PushKind.MOTION,
    EventKind.PERSON: PushKind.PERSON,
}
"""The camera events a device can be notified of; every other kind never is."""

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
CameraKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ClockTime = Annotated[str, StringConstraints(pattern=_CLOCK.pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindPrefs(_Strict):
    """Which kinds of event notify this device about one camera."""

    ring: bool = Field(True, description="Someone pressed the doorbell.")
    motion: bool = Field(False, description="The camera saw motion.")
    person: bool = Field(False, description="The camera saw a person.")

    def wants(self, kind: PushKind) -> bool:
        """Whether this kind notifies."""
        return bool(getattr(self, kind.value))


class QuietHours(_Strict):
    """A daily window (local time; it may pass midnight) without motion and person
    notifications. Rings still ring."""

    start: ClockTime = Field(description="HH:MM, 24-hour clock, local time.")
    end: ClockTime = Field(description="HH:MM; before `start` means the window ends next day.")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end times")
        return self

    def covers(self, moment: time) -> bool:
        """Whether `moment` (local wall-clock time) is inside the window."""
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        now = moment.replace(second=0, microsecond=0, tzinfo=None)
        if start < end:
            return start <= now < end
        return now >= start or now < end


class Prefs(_Strict):
    """A device's notification preferences."""

    cameras: dict[CameraKey, KindPrefs] = Field(
        default_factory=dict,
        max_length=MAX_CAMERAS,
        description="Per camera id; cameras not listed use `default`.",
    )
    default: KindPrefs = Field(default_factory=KindPrefs, description="For cameras not listed.")
    quiet_hours: QuietHours | None = Field(
        None, description="Motion and person stay silent in this window; a ring still rings."
    )

    def wants(self, camera_id: str, kind: PushKind, local_now: datetime) -> bool:
        """Whether an event of `kind` on `camera_id` at `local_now` notifies this device."""
        chosen = self.cameras.get(camera_id, self.default)
        if not chosen.wants(kind):
            return False
        if kind is PushKind.RING or self.quiet_hours is None:
            return True
        return not self.quiet_hours.covers(local_now.timetz())


def stored_prefs(raw: dict[str, Any]) -> Prefs:
    """Preferences as read back from storage; a row that no longer validates means defaults
    (the ring on), rather than a device that silently stops ringing."""
    try:
        return Prefs.model_validate(raw)
    except ValueError:
        return Prefs()
