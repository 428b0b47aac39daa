"""Per-device preferences: per camera and kind, quiet hours (rings still ring), with the clock
injected."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from doorstep.gateway.notify.prefs import Prefs, PushKind, stored_prefs
from doorstep.gateway.web.keys import PUSH
from doorstep.sdk import EventKind

from .conftest import publish, settle
from .rig import PushRig, api

ZONE = timezone(timedelta(hours=2))


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=ZONE)


def test_the_ring_is_on_and_motion_off_by_default() -> None:
    prefs = Prefs()
    assert prefs.wants("front", PushKind.RING, at(12))
    assert not prefs.wants("front", PushKind.MOTION, at(12))
    assert not prefs.wants("front", PushKind.PERSON, at(12))


def test_a_camera_entry_overrides_the_default() -> None:
    prefs = Prefs.model_validate({
        "cameras": {"garden": {"ring": False, "motion": True}},
        "default": {"ring": True, "motion": False, "person": True},
    })  # fmt: skip
    assert not prefs.wants("garden", PushKind.RING, at(12))
    assert prefs.wants("garden", PushKind.MOTION, at(12))
    assert not prefs.wants("garden", PushKind.PERSON, at(12))  # the entry's own default
    assert prefs.wants("front", PushKind.PERSON, at(12))


@pytest.mark.parametrize(
    ("start", "end", "quiet", "loud"),
    [
        ("22:00", "07:00", [at(22), at(23, 59), at(0), at(6, 59)], [at(7), at(12), at(21, 59)]),
        ("09:00", "17:30", [at(9), at(17, 29)], [at(8, 59), at(17, 30), at(23)]),
    ],
)
def test_quiet_hours_silence_motion_but_never_the_ring(
    start: str, end: str, quiet: list[datetime], loud: list[datetime]
) -> None:
    prefs = Prefs.model_validate({
        "default": {"ring": True, "motion": True, "person": True},
        "quiet_hours": {"start": start, "end": end},
    })  # fmt: skip
    for moment in quiet:
        assert not prefs.wants("front", PushKind.MOTION, moment), moment
        assert not prefs.wants("front", PushKind.PERSON, moment), moment
        assert prefs.wants("front", PushKind.RING, moment), moment
    for moment in loud:
        assert prefs.wants("front", PushKind.MOTION, moment), moment


@pytest.mark.parametrize(
    "bad",
    [
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"quiet_hours": {"start": "24:00", "end": "07:00"}},
        {"quiet_hours": {"start": "7:00", "end": "08:00"}},
        {"default": {"ring": True, "sound": True}},
        {"cameras": {"../etc": {"ring": True}}},
        {"cameras": {f"c{i}": {} for i in range(65)}},
    ],
)
def test_malformed_preferences_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Prefs.model_validate(bad)


def test_a_stored_row_that_no_longer_validates_keeps_the_ring() -> None:
    assert stored_prefs({"default": {"ring": "maybe"}}) == Prefs()


async def test_motion_follows_the_device_prefs_and_the_injected_clock(rig: PushRig) -> None:
    status, _ = await api(
        rig.owner, "PATCH", f"/api/push/subscriptions/{await _device_id(rig)}",
        {"prefs": {"default": {"ring": True, "motion": True},
                   "quiet_hours": {"start": "22:00", "end": "07:00"}}},
    )  # fmt: skip
    assert status == 200
    push = rig.app[PUSH]
    push.clock = lambda: at(23, 30)  # inside quiet hours
    publish(rig, EventKind.MOTION)
    publish(rig, EventKind.DOORBELL)
    await settle(rig)
    [ring] = rig.receiver.messages_for(rig.device)
    assert ring.json()["kind"] == "ring"  # the ring rang, motion stayed quiet
    push.clock = lambda: at(12)
    publish(rig, EventKind.MOTION, camera="garden")
    await settle(rig)
    motion = rig.receiver.messages_for(rig.device)[-1].json()
    assert motion["body"] == "Motion at Garden"
    assert motion["url"] == "/#/camera/garden"
    assert motion["tag"] == "motion-garden"


async def test_a_camera_turned_off_for_a_device_does_not_ring_it(rig: PushRig) -> None:
    prefs = {"cameras": {"front": {"ring": False}}}
    path = f"/api/push/subscriptions/{await _device_id(rig)}"
    status, view = await api(rig.owner, "PATCH", path, {"prefs": prefs})
    assert status == 200
    assert view["prefs"]["cameras"]["front"] == {"ring": False, "motion": False, "person": False}
    publish(rig, EventKind.DOORBELL, "front")
    publish(rig, EventKind.DOORBELL, "garden")
    await settle(rig)
    assert [m.json()["camera_id"] for m in rig.receiver.messages_for(rig.device)] == ["garden"]


async def test_repeated_motion_and_initial_or_ended_events_send_nothing_more(
    rig: PushRig,
) -> None:
    path = f"/api/push/subscriptions/{await _device_id(rig)}"
    await api(rig.owner, "PATCH", path, {"prefs": {"default": {"motion": True}}})
    publish(rig, EventKind.MOTION, initial=True)  # state at subscription: not news
    publish(rig, EventKind.MOTION, active=False)  # an end: not news
    publish(rig, EventKind.VEHICLE)  # no notification for this kind
    publish(rig, EventKind.MOTION)
    publish(rig, EventKind.MOTION)  # the camera's second motion topic, a moment later
    await settle(rig)
    assert [m.json()["kind"] for m in rig.receiver.messages_for(rig.device)] == ["motion"]


async def _device_id(rig: PushRig) -> int:
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert status == 200
    return int(listed["subscriptions"][0]["id"])
