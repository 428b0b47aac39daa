"""The time shares are judged by: the gateway's clock, never earlier than the latest time it
has shown, so a clock moved backwards cannot bring an expired share back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Wall = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ShareClock:
    """`now()` is the wall clock or the high-water mark, whichever is later."""

    def __init__(self, wall: Wall = _utc_now, high_water: datetime | None = None) -> None:
        self.wall = wall
        """The gateway's clock (tests replace it to move time)."""
        self.high_water = high_water or datetime.min.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The current time for shares."""
        current = self.wall()
        self.high_water = max(self.high_water, current)
        return self.high_water

    def went_back(self) -> bool:
        """Whether the wall clock is now behind a time already seen."""
        return self.wall() < self.high_water
