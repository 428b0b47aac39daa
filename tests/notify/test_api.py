"""The push API: who may call what, each account sees only its own devices, and an endpoint
the gateway would have to POST to is checked before it is stored (SSRF)."""

from __future__ import annotations

from typing import Any

import pytest

from doorstep.gateway.web.keys import AUDIT, PUSH

from ..peers.push_service import b64url
from .conftest import Login
from .rig import PushRig, api, browser, subscribe_device

FCM = "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b"


def _subscription(rig: PushRig, endpoint: str, **changes: Any) -> dict[str, Any]:
    device = rig.receiver.subscribe(rig.app[PUSH].public_key)
    body = {**device.to_json(), "endpoint": endpoint, "label": "tablet"}
    body.update(changes)
    return body


async def test_the_key_is_the_gateways_vapid_public_key(rig: PushRig, login: Login) -> None:
    rita = await login("rita")
    status, key = await api(rita, "GET", "/api/push/key")
    assert status == 200
    assert key == {"enabled": True, "public_key": rig.app[PUSH].public_key}
    assert len(key["public_key"]) == 87  # 65 bytes: 0x04 || X || Y
    assert key["public_key"].startswith("B")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/push/key"),
        ("GET", "/api/push/subscriptions"),
        ("POST", "/api/push/subscriptions"),
        ("PATCH", "/api/push/subscriptions/1"),
        ("DELETE", "/api/push/subscriptions/1"),
        ("POST", "/api/push/subscriptions/1/test"),
    ],
)
async def test_neighbours_and_strangers_are_refused(
    rig: PushRig, login: Login, method: str, path: str
) -> None:
    ned = await login("ned")
    status, answer = await api(ned, method, path, {})
    assert (status, answer["error"]) == (403, "household_only")
    async with browser(rig.server) as stranger:
        status, answer = await api(stranger, method, path, {})
    assert (status, answer["error"]) == (401, "signed_out")


async def test_only_the_owner_reads_and_changes_the_switch(rig: PushRig, login: Login) -> None:
    rita = await login("rita")
    for method in ("GET", "PUT"):
        status, answer = await api(rita, method, "/api/push/settings", {"enabled": False})
        assert (status, answer["error"]) == (403, "owner_only")
    assert rig.app[PUSH].owner_enabled is True
    status, settings = await api(rig.owner, "GET", "/api/push/settings")
    assert (status, settings) == (200, {"enabled": True, "active": True, "problem": None})


async def test_an_account_sees_and_changes_only_its_own_devices(rig: PushRig, login: Login) -> None:
    rita = await login("rita")
    _, ritas = await subscribe_device(rita, rig.receiver, "Rita's phone")
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert [d["label"] for d in listed["subscriptions"]] == ["Olivia's phone"]
    owners_id = listed["subscriptions"][0]["id"]
    status, mine = await api(rita, "GET", "/api/push/subscriptions")
    assert [d["id"] for d in mine["subscriptions"]] == [ritas["id"]]
    # Another account's device answers as if it did not exist, even to the owner.
    for method, suffix, body in [
        ("PATCH", "", {"label": "mine now"}),
        ("DELETE", "", None),
        ("POST", "/test", None),
    ]:
        status, answer = await api(
            rita, method, f"/api/push/subscriptions/{owners_id}{suffix}", body
        )
        assert (status, answer["error"]) == (404, "no_such_subscription"), method
        status, answer = await api(
            rig.owner, method, f"/api/push/subscriptions/{ritas['id']}{suffix}", body
        )
        assert (status, answer["error"]) == (404, "no_such_subscription"), method
    assert rig.receiver.received == []
    status, answer = await api(rita, "PATCH", f"/api/push/subscriptions/{ritas['id']}",
                               {"label": "  Rita's\tnew   phone "})  # fmt: skip
    assert (status, answer["label"]) == (200, "Rita's new phone")
    status, _ = await api(rita, "DELETE", f"/api/push/subscriptions/{ritas['id']}")
    assert status == 200
    status, mine = await api(rita, "GET", "/api/push/subscriptions")
    assert mine["subscriptions"] == []
    actions = [r.action for r in await rig.app[AUDIT].query(actor="rita", action="push")]
    assert actions == ["push.unsubscribe", "push.subscribe"]


async def test_posting_the_same_endpoint_again_updates_it(rig: PushRig) -> None:
    body = _subscription(rig, FCM)
    status, first = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert status == 201
    assert first["endpoint_host"] == "fcm.googleapis.com"
    assert "endpoint" not in first
    assert "keys" not in first
    body["label"] = "kitchen tablet"
    status, second = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert status == 201
    assert (second["id"], second["label"]) == (first["id"], "kitchen tablet")
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert [d["label"] for d in listed["subscriptions"]] == ["Olivia's phone", "kitchen tablet"]


async def test_a_device_that_changes_hands_moves_to_its_new_account(
    rig: PushRig, login: Login
) -> None:
    rita = await login("rita")
    body = _subscription(rig, FCM)
    status, _ = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert status == 201
    status, moved = await api(rita, "POST", "/api/push/subscriptions", body)
    assert status == 201
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert [d["label"] for d in listed["subscriptions"]] == ["Olivia's phone"]
    status, mine = await api(rita, "GET", "/api/push/subscriptions")
    assert [d["id"] for d in mine["subscriptions"]] == [moved["id"]]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://fcm.googleapis.com:8443/fcm/send/x",  # not the https port
        "https://evil.example/push",  # not a push service
        "https://fcm.googleapis.com.evil.example/x",
        "https://evilpush.services.mozilla.com/x",
        "https://push.services.mozilla.com/x",  # the wildcard is for subdomains only
        "https://user:pw@fcm.googleapis.com/x",
        "https://127.0.0.1/x",
        "http://127.0.0.1:9/push/x",  # loopback, but not the allowed origin's port
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "/push/relative",
        "https://fcm.googleapis.com/" + "a" * 1100,
        "https://fcm.googleapis.com/x y",
        "https://fcm.googleapis.com:99999/x",
    ],
)
async def test_endpoints_off_the_push_services_are_refused(rig: PushRig, endpoint: str) -> None:
    status, answer = await api(
        rig.owner, "POST", "/api/push/subscriptions", _subscription(rig, endpoint)
    )
    assert status == 422, answer
    status, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert len(listed["subscriptions"]) == 1  # only the rig's own device


@pytest.mark.parametrize(
    "endpoint",
    [
        FCM,
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://jmt17.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
    ],
)
async def test_the_browsers_push_services_are_accepted(rig: PushRig, endpoint: str) -> None:
    status, answer = await api(
        rig.owner, "POST", "/api/push/subscriptions", _subscription(rig, endpoint)
    )
    assert status == 201, answer


@pytest.mark.parametrize(
    "keys",
    [
        {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(b"a" * 16)},  # not on P-256
        {"p256dh": b64url(b"\x02" + b"\x01" * 32), "auth": b64url(b"a" * 16)},  # compressed
        {"p256dh": "not base64!", "auth": b64url(b"a" * 16)},
        {"p256dh": "", "auth": b64url(b"a" * 16)},
        {"auth": b64url(b"a" * 16)},
    ],
)
async def test_keys_that_cannot_encrypt_are_refused(rig: PushRig, keys: dict[str, str]) -> None:
    body = _subscription(rig, FCM, keys=keys)
    status, answer = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert status == 422, answer


async def test_a_bad_auth_secret_and_label_are_refused(rig: PushRig) -> None:
    body = _subscription(rig, FCM)
    body["keys"]["auth"] = b64url(b"short")
    status, answer = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert (status, answer["error"]) == (422, "bad_subscription")
    body = _subscription(rig, FCM, label="bell\x00")
    status, answer = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert status == 422
    body = _subscription(rig, FCM, label="x" * 65)
    status, answer = await api(rig.owner, "POST", "/api/push/subscriptions", body)
    assert status == 422


async def test_an_account_has_a_bounded_number_of_devices(rig: PushRig) -> None:
    for n in range(19):  # the rig's phone is the 20th
        status, _ = await api(
            rig.owner, "POST", "/api/push/subscriptions", _subscription(rig, f"{FCM}{n}")
        )
        assert status == 201
    status, answer = await api(
        rig.owner, "POST", "/api/push/subscriptions", _subscription(rig, f"{FCM}-more")
    )
    assert (status, answer["error"]) == (409, "too_many_devices")


async def test_garbage_ids_are_not_found(rig: PushRig) -> None:
    for raw in ("0", "99999", "\uff11\uff12", "1e3", "-1"):
        status, _ = await api(rig.owner, "DELETE", f"/api/push/subscriptions/{raw}")
        assert status == 404, raw


async def test_posting_needs_json_from_the_same_origin(rig: PushRig) -> None:
    body = _subscription(rig, FCM)
    async with rig.owner.post(
        "/api/push/subscriptions", json=body, headers={"Sec-Fetch-Site": "cross-site"}
    ) as response:
        assert response.status == 403
    async with rig.owner.post(
        "/api/push/subscriptions", data=b"endpoint=x", headers={"Sec-Fetch-Site": "same-origin"}
    ) as response:
        assert response.status == 415
    _, listed = await api(rig.owner, "GET", "/api/push/subscriptions")
    assert len(listed["subscriptions"]) == 1
