"""What the push service answers, and what the gateway does about it: a gone subscription is
dropped, throttling and server errors are retried within bounds, refusals are recorded, a
redirect is never followed; and the owner's switch stops everything."""

from __future__ import annotations

import logging

import pytest

from doorstep.gateway.notify.sender import Outcome
from doorstep.gateway.web.keys import AUDIT, PUSH, STORAGE
from doorstep.sdk import EventKind

from .conftest import publish, settle
from .rig import PushRig, api, subscribe_device


async def _ring(rig: PushRig, camera: str = "front") -> None:
    publish(rig, EventKind.DOORBELL, camera)
    await settle(rig)


async def _devices(rig: PushRig) -> list[dict[str, object]]:
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert status == 200
    devices: list[dict[str, object]] = listed["subscriptions"]
    return devices


@pytest.mark.parametrize("status", [404, 410])
async def test_a_subscription_the_push_service_calls_gone_is_dropped(
    rig: PushRig, status: int
) -> None:
    other, _ = await subscribe_device(rig.owner, rig.receiver, "laptop")
    if status == 410:
        rig.receiver.unsubscribe(rig.device)  # the receiver answers 410 on its own
    else:
        rig.receiver.script(rig.device, (404, {}))
    await _ring(rig)
    assert [d["label"] for d in await _devices(rig)] == ["laptop"]
    assert len(rig.receiver.messages_for(other)) == 1
    assert rig.receiver.attempts[rig.device.sid] == 1  # never retried


async def test_the_owner_switch_stops_push_and_is_audited(rig: PushRig) -> None:
    status, settings = await api(rig.owner, "PUT", "/api/push/settings", {"enabled": False})
    assert status == 200
    assert settings == {"enabled": False, "active": False, "problem": None}
    await _ring(rig)
    assert sum(rig.receiver.attempts.values()) == 0
    status, key = await api(rig.owner, "GET", "/api/push/key")
    assert (status, key["enabled"]) == (200, False)
    late = rig.receiver.subscribe(key["public_key"])
    status, refused = await api(rig.owner, "POST", "/api/push/subscriptions", late.to_json())
    assert (status, refused["error"]) == (409, "push_off")
    stored = await rig.app[STORAGE].settings.get("push.enabled")
    assert stored is not None
    assert (stored.value, stored.changed_by) == (False, "olivia")
    rows = await rig.app[AUDIT].query(action="push.settings")
    assert [dict(r.detail) for r in rows] == [{"enabled": False}]
    status, _ = await api(rig.owner, "PUT", "/api/push/settings", {"enabled": True})
    assert status == 200
    await _ring(rig, "garden")
    assert len(rig.receiver.messages_for(rig.device)) == 1


async def test_throttling_is_retried_after_the_time_asked(rig: PushRig) -> None:
    rig.receiver.script(rig.device, (429, {"Retry-After": "1"}))
    await _ring(rig)
    assert rig.receiver.attempts[rig.device.sid] == 2
    assert len(rig.receiver.messages_for(rig.device)) == 1


async def test_server_errors_are_retried_a_bounded_number_of_times(rig: PushRig) -> None:
    rig.receiver.script(rig.device, (503, {}), (500, {}))
    await _ring(rig)
    assert len(rig.receiver.messages_for(rig.device)) == 1  # the third attempt got through
    rig.receiver.script(rig.device, *[(502, {})] * 5)
    await _ring(rig, "garden")
    assert rig.receiver.attempts[rig.device.sid] == 3 + 3  # gave up after three
    [device] = await _devices(rig)
    assert device["last_error"] == "the push service answered 502"


async def test_a_refused_token_is_recorded_and_not_retried(rig: PushRig) -> None:
    rig.receiver.script(rig.device, (403, {}))
    await _ring(rig)
    assert rig.receiver.attempts[rig.device.sid] == 1
    [device] = await _devices(rig)  # kept: the owner sees why it stopped
    assert device["last_error"] == "the push service refused this gateway's key"
    assert device["last_error_at"] is not None


async def test_too_large_is_our_bug_and_logged_once(
    rig: PushRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="doorstep.gateway.notify")
    rig.receiver.script(rig.device, (413, {}), (413, {}))
    await _ring(rig)
    await _ring(rig, "garden")
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "413" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert rig.receiver.attempts[rig.device.sid] == 2


async def test_a_redirect_is_never_followed(rig: PushRig) -> None:
    elsewhere = rig.receiver.subscribe(rig.app[PUSH].public_key)
    rig.receiver.script(rig.device, (307, {"Location": elsewhere.endpoint}))
    await _ring(rig)
    assert rig.receiver.attempts[elsewhere.sid] == 0
    [device] = await _devices(rig)
    assert device["last_error"] == "the push service redirected"


async def test_a_test_notification_reaches_only_the_callers_device(rig: PushRig) -> None:
    [device] = await _devices(rig)
    status, result = await api(rig.owner, "POST", f"/api/push/subscriptions/{device['id']}/test")
    assert status == 200
    assert result == {"delivered": True, "outcome": Outcome.DELIVERED.value, "reason": "delivered"}
    [message] = rig.receiver.messages_for(rig.device)
    assert message.json()["kind"] == "test"
    assert message.json()["url"] == "/#/notifications"
    status, again = await api(rig.owner, "POST", f"/api/push/subscriptions/{device['id']}/test")
    assert (status, again["error"]) == (429, "test_too_soon")
