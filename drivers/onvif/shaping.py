"""From notifications to the events the gateway sees: normalised, a door station's button as
the doorbell, re-sent states dropped, motion cleared for cameras that never send the 'off'."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from doorstep.drivers.onvif.normalize import is_known_topic, normalize, parse_bool
from doorstep.drivers.onvif.notification import Notification
from doorstep.sdk import DeviceEvent, EventKind

MAX_UNKNOWN_TOPICS = 256
LOGGED_UNKNOWN_TOPICS = 8
"""Unknown topics logged at WARNING with their payload per process; a camera inventing topics by
the hundred gets DEBUG lines after these (hole 9: no log line per event)."""
_UNKNOWN_TOPICS: set[str] = set()
"""Unknown topics already logged by any camera (at most MAX_UNKNOWN_TOPICS): reconnects and a
house full of the same model must not repeat the line."""
MAX_KNOWN_STATES = 1024

StateKey = tuple[EventKind, str, str | None]


def cleared(event: DeviceEvent) -> DeviceEvent:
    """The 'off' a camera never sent, after the auto-clear timeout."""
    attributes = dict(event.attributes)
    state_item = f"data.{attributes.get('data_item', '')}"
    if parse_bool(attributes.get(state_item, "")):
        attributes[state_item] = "false"  # the row must not contradict its own state
    return event.model_copy(
        update={
            "active": False,
            "time": datetime.now(UTC),
            "initial": False,
            "attributes": {**attributes, "auto_clear": "true"},
        }
    )


class EventShaper:
    """One connection's view of the camera's states; `shape` each notification, then ask
    `due_clears` for the motion that timed out."""

    def __init__(
        self,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        auto_clear_s: float,
        doorbell_input: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self.auto_clear_s = auto_clear_s
        self._button = doorbell_input
        self._clock = clock
        self._states: dict[StateKey, bool] = {}
        """The last state of each (kind, topic, source) reported since connecting."""
        self._clears: dict[tuple[EventKind, str | None], tuple[float, DeviceEvent]] = {}

    @property
    def known_states(self) -> int:
        """How many (kind, topic, source) states are remembered."""
        return len(self._states)

    def shape(self, notification: Notification) -> list[DeviceEvent]:
        """The events one notification means, minus states already reported."""
        self._remember_unknown(notification)
        shaped = []
        for event in self._normalise(notification):
            if self._known_already(event):
                continue
            self._track_motion(event)
            shaped.append(event)
        return shaped

    def due_clears(self) -> list[DeviceEvent]:
        """The 'off' of every motion that has been on for longer than the auto-clear time."""
        now = self._clock()
        due = []
        for key, (at, event) in list(self._clears.items()):
            if at <= now:
                del self._clears[key]
                off = cleared(event)
                self._known_already(off)
                due.append(off)
        return due

    def _remember_unknown(self, notification: Notification) -> None:
        topic = notification.topic
        if is_known_topic(topic) or topic in _UNKNOWN_TOPICS:
            return
        if len(_UNKNOWN_TOPICS) >= MAX_UNKNOWN_TOPICS:
            return
        _UNKNOWN_TOPICS.add(topic)
        # Once per topic per process with its payload, so a user can contribute it as a sample.
        level = logging.WARNING if len(_UNKNOWN_TOPICS) <= LOGGED_UNKNOWN_TOPICS else logging.DEBUG
        self._log.log(
            level,
            "unknown event topic %s (kept as 'other'; logged once); payload: %s",
            topic[:200],
            repr(notification)[:4000],
        )

    def _normalise(self, notification: Notification) -> list[DeviceEvent]:
        events = normalize(notification, datetime.now(UTC))
        button = self._button
        if button is None:
            return events
        # A door station's call button is a digital input; the owner said which one.
        pressed = {"kind": EventKind.DOORBELL}
        return [
            e.model_copy(update={**pressed, "attributes": {**e.attributes, "input": button}})
            if e.kind is EventKind.DIGITAL_INPUT and e.source == button
            else e
            for e in events
        ]

    def _known_already(self, event: DeviceEvent) -> bool:
        """Remember the event's state; True for an Initialized state that was known already.

        Some devices resend every state as `Initialized` on each subscription and renewal (and
        twice in the first pull): current state, but no news to report again.
        """
        if event.active is None:
            return False
        key = (event.kind, event.topic, event.source)
        known = self._states.get(key)
        if known is None and len(self._states) >= MAX_KNOWN_STATES:
            return False  # a camera inventing sources by the thousand: report, don't remember
        self._states[key] = event.active
        return event.initial and known == event.active

    def _track_motion(self, event: DeviceEvent) -> None:
        if event.kind is not EventKind.MOTION or self.auto_clear_s <= 0:
            return
        key = (event.kind, event.source)
        if event.active:
            self._clears[key] = (self._clock() + self.auto_clear_s, event)
        else:
            self._clears.pop(key, None)
