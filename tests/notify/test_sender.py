"""The sender's pieces on their own: RFC 8291's test vector (so a bug shared by the sender and
the receiver, which both use http_ece, cannot hide), payload limits, headers, endpoint rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from doorstep.gateway.config.push import PushConfig
from doorstep.gateway.notify.endpoints import EndpointPolicy, EndpointRefused
from doorstep.gateway.notify.payload import (
    MAX_PLAINTEXT,
    Notification,
    PayloadTooLarge,
    camera_notification,
    topic_for,
)
from doorstep.gateway.notify.prefs import PushKind
from doorstep.gateway.notify.sender import PushSender, PushTarget, retry_after_s
from doorstep.gateway.notify.vapid import VapidKeys

from ..peers.push_service import PushReceiver, unb64url, verify_vapid

# RFC 8291 Appendix A.
AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
SALT = "DGv6ra1nlYgDCS1FRnbzlw"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
PLAINTEXT = b"When I grow up, I want to be a watermelon"
BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYW"
    "AmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgS"
    "xsj_Qulcy4a-fN"
)


def _private(text: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(unb64url(text), "big"), ec.SECP256R1())


async def _sender(session: aiohttp.ClientSession, extra: tuple[str, ...] = ()) -> PushSender:
    keys = VapidKeys.of(ec.generate_private_key(ec.SECP256R1()))
    return PushSender(session, keys, "mailto:owner@example.org", EndpointPolicy.of(extra))


async def test_encryption_matches_rfc_8291_appendix_a() -> None:
    async with aiohttp.ClientSession() as session:
        sender = await _sender(session)
        body = sender.encrypt(
            PLAINTEXT, PushTarget("https://fcm.googleapis.com/x", UA_PUBLIC, AUTH),
            sender_key=_private(AS_PRIVATE), salt=unb64url(SALT),
        )  # fmt: skip
    assert body == unb64url(BODY)


async def test_each_message_has_a_fresh_key_and_salt() -> None:
    async with aiohttp.ClientSession() as session:
        sender = await _sender(session)
        target = PushTarget("https://fcm.googleapis.com/x", UA_PUBLIC, AUTH)
        first, second = sender.encrypt(b"x", target), sender.encrypt(b"x", target)
    assert first[:16] != second[:16]  # salt
    assert first[21:86] != second[21:86]  # the sender's public key (keyid)


async def test_the_vapid_token_verifies_independently() -> None:
    async with aiohttp.ClientSession() as session:
        sender = await _sender(session)
        url = EndpointPolicy.of().check("https://fcm.googleapis.com/fcm/send/abc")
        header = sender.authorization(url)
    claims = verify_vapid(header, "https://fcm.googleapis.com", sender.public_key)
    assert claims["sub"] == "mailto:owner@example.org"
    now = datetime.now(UTC).timestamp()
    assert now + 11 * 3600 < claims["exp"] <= now + 24 * 3600


async def test_the_largest_payload_fills_one_4096_byte_record() -> None:
    async with PushReceiver() as receiver, aiohttp.ClientSession() as session:
        sender = await _sender(session, (receiver.origin,))
        device = receiver.subscribe(sender.public_key)
        target = PushTarget(device.endpoint, device.p256dh, device.to_json()["keys"]["auth"])
        largest = Notification(b"x" * MAX_PLAINTEXT, 60, "normal", "t")
        assert len(sender.encrypt(largest.body, target)) == 4096
        result = await sender.send(target, largest)
    assert result.outcome.value == "delivered"
    assert receiver.received[0].plaintext == largest.body
    with pytest.raises(PayloadTooLarge):
        Notification(b"x" * (MAX_PLAINTEXT + 1), 60, "normal", "t")


def test_a_long_camera_name_still_fits() -> None:
    note = camera_notification(PushKind.MOTION, "c" * 64, "N" * 5000, datetime.now(UTC))
    assert len(note.body) < MAX_PLAINTEXT
    assert len(note.topic) <= 32
    assert note.urgency == "normal"


@pytest.mark.parametrize("camera", ["front", "a" * 64, "x_y-z"])
def test_topics_are_short_base64url(camera: str) -> None:
    topic = topic_for("ring", camera)
    assert len(topic) <= 32
    assert all(c.isalnum() or c in "-_" for c in topic)
    assert topic_for("ring", camera) == topic  # stable: a newer ring replaces the older


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert retry_after_s("7") == 7.0
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_s(later, now) == 30.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


def test_the_endpoint_policy_takes_the_owners_additions() -> None:
    policy = EndpointPolicy.of(["push.example.org", "*.push.example.net", "http://127.0.0.1:8123"])
    for ok in [
        "https://push.example.org/x",
        "https://a.push.example.net/x",
        "http://127.0.0.1:8123/push/1",
        "https://fcm.googleapis.com/x",
    ]:
        assert policy.check(ok)
    for refused in [
        "https://push.example.org:444/x",
        "http://push.example.org/x",
        "https://push.example.net/x",
        "http://127.0.0.1:8124/push/1",
        "https://127.0.0.1:8123/push/1",
    ]:
        with pytest.raises(EndpointRefused):
            policy.check(refused)


@pytest.mark.parametrize(
    "entry", ["http://127.0.0.1", "ftp://x.org:21", "exa mple.org", "*.*.org", "https://x/a"]
)
def test_bad_allowed_hosts_are_refused_by_the_config(entry: str) -> None:
    with pytest.raises(ValidationError):
        PushConfig.model_validate({"allowed_endpoint_hosts": [entry]})


@pytest.mark.parametrize("contact", ["owner@example.org", "mailto:nobody", "https://x.org/path"])
def test_a_contact_must_be_mailto_or_https(contact: str) -> None:
    with pytest.raises(ValidationError):
        PushConfig.model_validate({"contact": contact})
