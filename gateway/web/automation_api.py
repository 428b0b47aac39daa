"""Outgoing webhooks API (owner only): the rules that POST camera events to other tools.

Creating a rule, changing its URL and rotating its secret need the password entered in the last
minutes (like account changes): whoever holds only a session cookie cannot point the household's
events at a host of their own. The signing secret is shown once, when it is made. Every change
is in the audit log; a URL change records the old and the new host (never the path or query,
which may hold a token).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from doorstep.gateway.automation.outgoing_webhooks import (
    MAX_RULES,
    NoSuchRule,
    OutgoingWebhooks,
    RuleState,
    RuleUnreadable,
    TooManyRules,
)
from doorstep.gateway.automation.webhook_delivery import DeliveryStatus
from doorstep.gateway.automation.webhook_fields import FIELDS
from doorstep.gateway.automation.webhook_rule import RuleSettings, UrlError, check_url, host_of
from doorstep.gateway.automation.webhook_template import (
    DEFAULT_TEMPLATE,
    TemplateError,
    check_template,
)
from doorstep.gateway.web.api import Done, add_api_route
from doorstep.gateway.web.auth_api import body_of, principal_of
from doorstep.gateway.web.automation_models import (
    DeliveryView,
    FieldView,
    NewWebhook,
    WebhookChange,
    WebhookCreated,
    WebhookList,
    WebhookView,
)
from doorstep.gateway.web.keys import AUDIT, OUTGOING_WEBHOOKS, STORAGE
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip
from doorstep.sdk import EventKind

BASE = "/api/automations/webhooks"
RULE_ID = {"type": "string", "pattern": "^[0-9]{1,12}$"}
MAX_BODY = 64 * 1024
"""A template of 8 KiB can take several times that once escaped as a JSON string."""

M = TypeVar("M", bound=BaseModel)


async def _body(request: web.Request, model: type[M]) -> M:
    """`body_of`, with JSON nested too deeply for the parser answered 422 rather than 500."""
    try:
        return await body_of(request, model, MAX_BODY)
    except RecursionError:
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", "body: nested too deeply"
        ) from None


def _delivery(status: DeliveryStatus) -> DeliveryView:
    return DeliveryView(
        at=status.at, delivery_id=status.delivery_id, ok=status.ok, attempts=status.attempts,
        http_status=status.http_status, error=status.error, test=status.test,
    )  # fmt: skip


def _view(state: RuleState) -> WebhookView:
    settings = state.settings
    return WebhookView(
        id=state.id, name=state.name, enabled=state.enabled,
        url=settings.url if settings else "", host=host_of(settings.url) if settings else "",
        kinds=[kind.value for kind in sorted(settings.kinds)] if settings else [],
        cameras=sorted(settings.cameras) if settings else [],
        include_ends=settings.include_ends if settings else False,
        template=settings.template.text if settings else "",
        created_at=state.created_at, updated_at=state.updated_at,
        secret_rotated_at=state.secret_rotated_at, queued=state.queued,
        queued_bytes=state.queued_bytes, sending=state.sending, dropped=state.dropped,
        last_delivery=_delivery(state.last) if state.last else None, problem=state.problem,
    )  # fmt: skip


def _hooks(request: web.Request) -> OutgoingWebhooks:
    hooks = request.app.get(OUTGOING_WEBHOOKS)
    if hooks is None:
        raise json_error(web.HTTPServiceUnavailable, "not_running", "outgoing webhooks are off")
    return hooks


def _rule_id(request: web.Request) -> int:
    raw = request.match_info["rule_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise json_error(web.HTTPNotFound, "no_such_webhook", "no such outgoing webhook")
    return int(raw)


def _state(request: web.Request, rule_id: int) -> RuleState:
    try:
        return _hooks(request).get(rule_id)
    except NoSuchRule:
        raise json_error(web.HTTPNotFound, "no_such_webhook", "no such outgoing webhook") from None


def _unreadable(exc: RuleUnreadable) -> web.HTTPException:
    return json_error(web.HTTPConflict, "webhook_unreadable", str(exc))


async def _checked(request: web.Request, settings: RuleSettings, url: str | None,
                   template: str | None, template_given: bool) -> RuleSettings:  # fmt: skip
    """`settings` with a new URL and template if given, each checked (422 with the reason)."""
    if url is not None:
        try:
            settings = replace(settings, url=check_url(url))
        except UrlError as exc:
            raise json_error(web.HTTPUnprocessableEntity, "invalid_url", f"url: {exc}") from None
    if template_given:
        try:
            settings = replace(settings, template=check_template(template))
        except TemplateError as exc:
            raise json_error(
                web.HTTPUnprocessableEntity, "invalid_template", f"template: {exc}"
            ) from None
    known = {camera.id for camera in await request.app[STORAGE].cameras.list()}
    unknown = sorted(settings.cameras - known)
    if unknown:
        raise json_error(
            web.HTTPUnprocessableEntity, "no_such_camera", f"cameras: no camera {unknown[0]!r}"
        )
    return settings


async def _audit(request: web.Request, action: str, rule_id: int, detail: dict[str, Any]) -> None:
    await request.app[AUDIT].append(
        principal_of(request).username, f"outgoing_webhook.{action}",
        f"outgoing_webhook:{rule_id}", ip=client_ip(request), detail=detail,
    )  # fmt: skip


async def list_webhooks(request: web.Request) -> web.Response:
    """GET /api/automations/webhooks."""
    fields = [FieldView(name=f.name, description=f.description, example=f.example) for f in FIELDS]
    answer = WebhookList(
        webhooks=[_view(state) for state in _hooks(request).rules()],
        fields=fields,
        kinds=[kind.value for kind in EventKind],
        default_template=DEFAULT_TEMPLATE,
        max_webhooks=MAX_RULES,
    )
    return model_response(answer)


async def create_webhook(request: web.Request) -> web.Response:
    """POST /api/automations/webhooks."""
    body = await _body(request, NewWebhook)
    hooks = _hooks(request)
    draft = RuleSettings(
        body.name, body.enabled, "", frozenset(body.kinds), frozenset(body.cameras),
        body.include_ends, check_template(None),
    )  # fmt: skip
    settings = await _checked(request, draft, body.url, body.template, body.template is not None)
    try:
        state, secret = await hooks.create(settings)
    except TooManyRules as exc:
        raise json_error(web.HTTPConflict, "too_many_webhooks", str(exc)) from None
    kinds = sorted(kind.value for kind in settings.kinds)
    await _audit(request, "create", state.id, {
        "name": settings.name, "host": host_of(settings.url), "kinds": kinds,
        "cameras": sorted(settings.cameras), "enabled": settings.enabled,
    })  # fmt: skip
    answer = WebhookCreated(webhook=_view(state), secret=secret)
    return model_response(answer, status=201)


async def get_webhook(request: web.Request) -> web.Response:
    """GET /api/automations/webhooks/{rule_id}."""
    state = _state(request, _rule_id(request))
    return model_response(_view(state))


def _changes(old: RuleSettings, new: RuleSettings) -> list[str]:
    fields = ("name", "enabled", "url", "kinds", "cameras", "include_ends")
    changed = [name for name in fields if getattr(old, name) != getattr(new, name)]
    if old.template.text != new.template.text:
        changed.append("template")
    return changed


async def change_webhook(request: web.Request) -> web.Response:
    """PATCH /api/automations/webhooks/{rule_id}."""
    rule_id = _rule_id(request)
    body = await _body(request, WebhookChange)
    state = _state(request, rule_id)
    old = state.settings
    if old is None:
        raise _unreadable(RuleUnreadable(state.problem or "the rule cannot be read"))
    if (
        body.url is not None
        and body.url != old.url
        and not principal_of(request).recently_confirmed
    ):
        raise json_error(
            web.HTTPForbidden, "reauth_required", "enter your password again to change the URL"
        )
    draft = replace(
        old,
        name=old.name if body.name is None else body.name,
        enabled=old.enabled if body.enabled is None else body.enabled,
        kinds=old.kinds if body.kinds is None else frozenset(body.kinds),
        cameras=old.cameras if body.cameras is None else frozenset(body.cameras),
        include_ends=old.include_ends if body.include_ends is None else body.include_ends,
    )
    new = await _checked(request, draft, body.url, body.template, body.template is not None)
    changed = _changes(old, new)
    if not changed:
        return model_response(_view(state))
    try:
        state = await _hooks(request).update(rule_id, new)
    except NoSuchRule:
        raise json_error(web.HTTPNotFound, "no_such_webhook", "no such outgoing webhook") from None
    except RuleUnreadable as exc:
        raise _unreadable(exc) from None
    detail: dict[str, Any] = {"name": new.name, "changed": changed}
    if "url" in changed:
        detail |= {"old_host": host_of(old.url), "new_host": host_of(new.url)}
    await _audit(request, "update", rule_id, detail)
    return model_response(_view(state))


async def delete_webhook(request: web.Request) -> web.Response:
    """DELETE /api/automations/webhooks/{rule_id}."""
    rule_id = _rule_id(request)
    _state(request, rule_id)
    try:
        state = await _hooks(request).delete(rule_id)
    except NoSuchRule:
        raise json_error(web.HTTPNotFound, "no_such_webhook", "no such outgoing webhook") from None
    host = host_of(state.settings.url) if state.settings else ""
    await _audit(request, "delete", rule_id, {"name": state.name, "host": host})
    return web.json_response({"ok": True})


async def rotate_secret(request: web.Request) -> web.Response:
    """POST /api/automations/webhooks/{rule_id}/secret."""
    rule_id = _rule_id(request)
    _state(request, rule_id)
    try:
        state, secret = await _hooks(request).rotate_secret(rule_id)
    except NoSuchRule:
        raise json_error(web.HTTPNotFound, "no_such_webhook", "no such outgoing webhook") from None
    except RuleUnreadable as exc:
        raise _unreadable(exc) from None
    await _audit(request, "rotate_secret", rule_id, {"name": state.name})
    answer = WebhookCreated(webhook=_view(state), secret=secret)
    return model_response(answer)


async def send_test_delivery(request: web.Request) -> web.Response:
    """POST /api/automations/webhooks/{rule_id}/test."""
    rule_id = _rule_id(request)
    state = _state(request, rule_id)
    try:
        outcome = await _hooks(request).send_test(rule_id)
    except NoSuchRule:
        raise json_error(web.HTTPNotFound, "no_such_webhook", "no such outgoing webhook") from None
    except RuleUnreadable as exc:
        raise _unreadable(exc) from None
    host = host_of(state.settings.url) if state.settings else ""
    await _audit(request, "test", rule_id, {
        "name": state.name, "host": host, "ok": outcome.ok, "http_status": outcome.http_status,
    })  # fmt: skip
    return model_response(_delivery(outcome))


def add_automation_routes(app: web.Application) -> None:
    """Register the outgoing webhooks routes (owner only)."""
    owner, one = Access.OWNER, f"{BASE}/{{rule_id}}"
    ids = {"rule_id": RULE_ID}
    add_api_route(app, "GET", BASE, list_webhooks, access=owner,
                  summary="Outgoing webhooks, and the fields their templates can use",
                  response=WebhookList, errors=(503,))  # fmt: skip
    add_api_route(app, "POST", BASE, create_webhook, access=owner, reauth=True,
                  summary="Create an outgoing webhook (its signing secret is shown this once)",
                  request=NewWebhook, response=WebhookCreated, status=201,
                  errors=(409, 503))  # fmt: skip
    add_api_route(app, "GET", one, get_webhook, access=owner, summary="One outgoing webhook",
                  response=WebhookView, path_params=ids, errors=(404, 503))  # fmt: skip
    add_api_route(app, "PATCH", one, change_webhook, access=owner,
                  summary="Change an outgoing webhook (a new URL needs the password again)",
                  request=WebhookChange, response=WebhookView, path_params=ids,
                  errors=(404, 409, 503))  # fmt: skip
    add_api_route(app, "DELETE", one, delete_webhook, access=owner,
                  summary="Delete an outgoing webhook", response=Done, path_params=ids,
                  errors=(404, 503))  # fmt: skip
    add_api_route(app, "POST", f"{one}/secret", rotate_secret, access=owner, reauth=True,
                  summary="Replace an outgoing webhook's signing secret (shown this once)",
                  response=WebhookCreated, path_params=ids, errors=(404, 409, 503))  # fmt: skip
    add_api_route(app, "POST", f"{one}/test", send_test_delivery, access=owner,
                  summary="Send a made-up doorbell press to an outgoing webhook, once, now",
                  response=DeliveryView, path_params=ids, errors=(404, 409, 503))  # fmt: skip
