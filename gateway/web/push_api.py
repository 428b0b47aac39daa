"""Web Push API: the key browsers subscribe with, each account's own devices, and the owner's
switch for outbound push (the one thing Doorstep sends off the LAN)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.notify.endpoints import MAX_ENDPOINT, MAX_KEY, endpoint_host
from doorstep.gateway.notify.prefs import Prefs, stored_prefs
from doorstep.gateway.notify.sender import Outcome
from doorstep.gateway.notify.service import (
    MAX_LABEL,
    TEST_EVERY_S,
    BadSubscription,
    PushError,
    PushService,
    PushUnavailable,
    TestTooSoon,
)
from doorstep.gateway.storage.repositories import PushSubscriptionRecord
from doorstep.gateway.web.api import Done, add_api_route
from doorstep.gateway.web.auth_api import body_of, principal_of
from doorstep.gateway.web.keys import AUDIT, PUSH
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip

SUBSCRIPTION_ID = {"type": "string", "pattern": "^[0-9]{1,12}$"}


class PushKey(BaseModel):
    """What a browser needs to subscribe: the gateway's VAPID public key."""

    enabled: bool = Field(description="False when the owner (or the config) turned push off.")
    public_key: str = Field(
        description="applicationServerKey: the uncompressed P-256 point, base64url ('' if none)."
    )


class SubscriptionKeys(BaseModel):
    """`PushSubscription.toJSON().keys`."""

    p256dh: str = Field(max_length=MAX_KEY)
    auth: str = Field(max_length=MAX_KEY)


class NewSubscription(BaseModel):
    """A device's push subscription (`PushSubscription.toJSON()`), its name and preferences.
    Posting the same endpoint again updates it."""

    endpoint: str = Field(max_length=MAX_ENDPOINT)
    keys: SubscriptionKeys
    expirationTime: float | None = Field(None, description="Sent by browsers; not used.")
    label: str = Field("", max_length=MAX_LABEL, description="The device's name, for Settings.")
    prefs: Prefs = Field(default_factory=Prefs)


class SubscriptionChange(BaseModel):
    """Rename a device or change what it is told about."""

    label: str | None = Field(None, max_length=MAX_LABEL)
    prefs: Prefs | None = None


class SubscriptionView(BaseModel):
    """One of the account's devices (its endpoint and keys are never shown back)."""

    id: int
    label: str
    endpoint_host: str = Field(description="The push service, e.g. fcm.googleapis.com.")
    created_at: datetime
    last_success_at: datetime | None
    last_error: str | None = Field(description="Why the last message was not delivered.")
    last_error_at: datetime | None
    prefs: Prefs


class SubscriptionList(BaseModel):
    """The account's devices."""

    subscriptions: list[SubscriptionView]


class PushTestResult(BaseModel):
    """What the device's push service said to a test notification."""

    delivered: bool
    outcome: str = Field(description="delivered, gone (the device was forgotten), rejected, failed")
    reason: str


class PushSettings(BaseModel):
    """The owner's switch for outbound push."""

    enabled: bool = Field(description="The owner allows push notifications.")
    active: bool = Field(description="Notifications go out now (switch, config and key all ok).")
    problem: str | None = Field(description="Why push cannot work, when it cannot.")


class PushSettingsChange(BaseModel):
    """Turn outbound push on or off."""

    enabled: bool


def _push(request: web.Request) -> PushService:
    return request.app[PUSH]


def _failure(error: PushError) -> web.HTTPException:
    if isinstance(error, BadSubscription):
        return json_error(web.HTTPUnprocessableEntity, error.code, str(error))
    if isinstance(error, PushUnavailable):
        return json_error(web.HTTPServiceUnavailable, error.code, str(error))
    if isinstance(error, TestTooSoon):
        headers = {"Retry-After": str(int(TEST_EVERY_S))}
        return json_error(web.HTTPTooManyRequests, error.code, str(error), headers)
    return json_error(web.HTTPConflict, error.code, str(error))  # PushOff, TooManyDevices


def _view(record: PushSubscriptionRecord) -> SubscriptionView:
    return SubscriptionView(
        id=record.id, label=record.label, endpoint_host=endpoint_host(record.endpoint),
        created_at=record.created_at, last_success_at=record.last_success_at,
        last_error=record.last_error, last_error_at=record.last_error_at,
        prefs=stored_prefs(record.prefs),
    )  # fmt: skip


def _subscription_id(request: web.Request) -> int:
    raw = request.match_info["subscription_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise _missing()
    return int(raw)


def _missing() -> web.HTTPException:
    return json_error(web.HTTPNotFound, "no_such_subscription", "no such device")


async def get_key(request: web.Request) -> web.Response:
    """GET /api/push/key."""
    push = _push(request)
    return web.json_response(PushKey(enabled=push.active, public_key=push.public_key).model_dump())


async def post_subscription(request: web.Request) -> web.Response:
    """POST /api/push/subscriptions."""
    body = await body_of(request, NewSubscription)
    principal = principal_of(request)
    try:
        record = await _push(request).subscribe(
            principal.user_id, body.endpoint, body.keys.p256dh, body.keys.auth, body.label,
            body.prefs,
        )  # fmt: skip
    except PushError as exc:
        raise _failure(exc) from None
    if record.created_at == record.updated_at:  # a new device, not a refresh of a known one
        await request.app[AUDIT].append(
            principal.username, "push.subscribe", f"push:{record.id}", ip=client_ip(request),
            detail={"service": endpoint_host(record.endpoint), "label": record.label},
        )  # fmt: skip
    return model_response(_view(record), status=201)


async def list_subscriptions(request: web.Request) -> web.Response:
    """GET /api/push/subscriptions."""
    records = await _push(request).subscriptions(principal_of(request).user_id)
    views = SubscriptionList(subscriptions=[_view(r) for r in records])
    return model_response(views)


async def patch_subscription(request: web.Request) -> web.Response:
    """PATCH /api/push/subscriptions/{subscription_id}."""
    subscription_id = _subscription_id(request)
    body = await body_of(request, SubscriptionChange)
    try:
        record = await _push(request).change(
            principal_of(request).user_id, subscription_id, body.label, body.prefs
        )
    except PushError as exc:
        raise _failure(exc) from None
    if record is None:
        raise _missing()
    return model_response(_view(record))


async def delete_subscription(request: web.Request) -> web.Response:
    """DELETE /api/push/subscriptions/{subscription_id}."""
    subscription_id = _subscription_id(request)
    principal = principal_of(request)
    if not await _push(request).remove(principal.user_id, subscription_id):
        raise _missing()
    await request.app[AUDIT].append(
        principal.username, "push.unsubscribe", f"push:{subscription_id}", ip=client_ip(request)
    )
    return web.json_response({"ok": True})


async def send_test_notification(request: web.Request) -> web.Response:
    """POST /api/push/subscriptions/{subscription_id}/test."""
    subscription_id = _subscription_id(request)
    try:
        result = await _push(request).send_test(principal_of(request).user_id, subscription_id)
    except PushError as exc:
        raise _failure(exc) from None
    if result is None:
        raise _missing()
    answer = PushTestResult(
        delivered=result.outcome is Outcome.DELIVERED,
        outcome=result.outcome.value,
        reason=result.reason,
    )
    return web.json_response(answer.model_dump())


def _settings(push: PushService) -> PushSettings:
    problem = push.unavailable
    if problem is None and not push.config.enabled:
        problem = "push.enabled is false in the config file"
    return PushSettings(enabled=push.owner_enabled, active=push.active, problem=problem)


async def get_settings(request: web.Request) -> web.Response:
    """GET /api/push/settings."""
    return web.json_response(_settings(_push(request)).model_dump())


async def put_settings(request: web.Request) -> web.Response:
    """PUT /api/push/settings."""
    body = await body_of(request, PushSettingsChange)
    principal = principal_of(request)
    push = _push(request)
    if body.enabled != push.owner_enabled:
        await push.set_enabled(body.enabled, principal.username)
        await request.app[AUDIT].append(
            principal.username, "push.settings", "push", ip=client_ip(request),
            detail={"enabled": body.enabled},
        )  # fmt: skip
    return web.json_response(_settings(push).model_dump())


def add_push_routes(app: web.Application) -> None:
    """Register the Web Push routes: household for devices, owner for the switch."""
    household, owner = Access.HOUSEHOLD, Access.OWNER
    one = {"subscription_id": SUBSCRIPTION_ID}
    add_api_route(app, "GET", "/api/push/key", get_key, access=household,
                  summary="The key browsers subscribe to push with", response=PushKey)  # fmt: skip
    add_api_route(app, "POST", "/api/push/subscriptions", post_subscription, access=household,
                  summary="Turn notifications on for this device", request=NewSubscription,
                  response=SubscriptionView, status=201, errors=(409, 503))  # fmt: skip
    add_api_route(app, "GET", "/api/push/subscriptions", list_subscriptions, access=household,
                  summary="Your devices that get notifications",
                  response=SubscriptionList)  # fmt: skip
    add_api_route(app, "PATCH", "/api/push/subscriptions/{subscription_id}", patch_subscription,
                  access=household, summary="Rename a device or change what it is told",
                  request=SubscriptionChange, response=SubscriptionView, path_params=one,
                  errors=(404,))  # fmt: skip
    add_api_route(app, "DELETE", "/api/push/subscriptions/{subscription_id}",
                  delete_subscription, access=household,
                  summary="Turn notifications off for a device", response=Done,
                  path_params=one, errors=(404,))  # fmt: skip
    add_api_route(app, "POST", "/api/push/subscriptions/{subscription_id}/test",
                  send_test_notification, access=household, summary="Send a test notification",
                  response=PushTestResult, path_params=one,
                  errors=(404, 409, 429, 503))  # fmt: skip
    add_api_route(app, "GET", "/api/push/settings", get_settings, access=owner,
                  summary="Whether push notifications may leave the LAN",
                  response=PushSettings)  # fmt: skip
    add_api_route(app, "PUT", "/api/push/settings", put_settings, access=owner, reauth=True,
                  summary="Allow or stop push notifications (they leave the LAN)",
                  request=PushSettingsChange, response=PushSettings)  # fmt: skip
