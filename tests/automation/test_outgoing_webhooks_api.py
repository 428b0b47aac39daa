"""The outgoing webhooks API: owner only, the password again to create, re-point or re-key a
rule, the secret shown once, every change in the audit log with hosts, clear 422s."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.auth import Principal
from doorstep.gateway.web.automation_api import BASE
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, DATABASE
from doorstep.gateway.web.policy import POLICIES, Access
from doorstep.sdk import EventKind

from ..gateway_client import SAME_ORIGIN, Client, call
from ..web.conftest import OWNER_PASSWORD, app, browser, set_up_owner  # noqa: F401
from .outgoing_webhooks_receiver import receiving

CONSOLE = Principal(0, "console", "owner")
PASSWORD = "another long password"
Browser = Callable[[], Awaitable[Client]]


async def _signed_in(browser: Browser, app: web.Application, name: str, role: str) -> Client:  # noqa: F811
    await app[ACCOUNTS].create_user(CONSOLE, name, PASSWORD, role, "test")
    client = await browser()
    status, _ = await call(client, "POST", "/api/session", {"username": name, "password": PASSWORD})
    assert status == 200
    return client


async def _stale(app: web.Application) -> None:  # noqa: F811
    """Age every session's proof of password past the re-authentication window."""
    old = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    await app[DATABASE].durable.execute("UPDATE sessions SET confirmed_at = ?", (old,))


async def _audit(app: web.Application) -> list[Any]:  # noqa: F811
    return list(reversed(await app[AUDIT].query(action="outgoing_webhook")))


def _new(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "Phone", "url": url, "kinds": ["doorbell"], **extra}


async def test_only_the_owner_reaches_outgoing_webhooks(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    routes = [(m, p) for (m, p), access in app[POLICIES].items() if p.startswith(BASE)]
    assert len({(m, p) for m, p in routes if m != "HEAD"}) == 7
    assert all(app[POLICIES][route] is Access.OWNER for route in routes)
    anonymous = await browser()
    for role in ("resident", "neighbour"):
        client = await _signed_in(browser, app, f"a {role}", role)
        for method, path in routes:
            if method == "HEAD":
                continue
            concrete = re.sub(r"\{\w+\}", "1", path)
            status, body = await call(client, method, concrete, _new("https://ntfy.sh/"))
            assert (status, body["error"]) == (403, "owner_only"), (role, method, path)
            status, _ = await call(anonymous, method, concrete, _new("https://ntfy.sh/"))
            assert status == 401, (method, path)
    assert await _audit(app) == []  # nothing was created


async def test_the_secret_is_shown_once_and_every_change_is_audited_with_hosts(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await browser()
    await set_up_owner(owner)
    async with receiving() as receiver:
        url = receiver.url("/doorstep/secret-path", "token=query-token-9")
        status, created = await call(owner, "POST", BASE, _new(url, cameras=["front"]))
        assert status == 201, created
        secret, rule_id = created["secret"], created["webhook"]["id"]
        assert len(secret) >= 43
        assert created["webhook"]["host"] == receiver.base.removeprefix("http://")
        assert created["webhook"]["kinds"] == ["doorbell"]
        assert created["webhook"]["cameras"] == ["front"]
        status, listing = await call(owner, "GET", BASE)
        assert status == 200
        status, one = await call(owner, "GET", f"{BASE}/{rule_id}")
        assert status == 200
        assert one["url"] == url  # the owner sees the URL they wrote
        for answer in (listing, one):
            assert secret not in json.dumps(answer)

        status, tested = await call(owner, "POST", f"{BASE}/{rule_id}/test")
        assert status == 200, tested
        assert (tested["ok"], tested["http_status"], tested["test"]) == (True, 200, True)
        (request,) = await receiver.wait_for("/doorstep/secret-path", 1)
        assert request.signed_by(secret)
        assert request.event == "test"
        assert request.json["camera_id"] == "front"  # the rule's camera, by its name
        assert request.json["camera_name"] == "Front"

        elsewhere = "http://127.0.0.2:8123/other/path?token=query-token-10"
        status, moved = await call(owner, "PATCH", f"{BASE}/{rule_id}", {"url": elsewhere})
        assert status == 200, moved
        assert moved["host"] == "127.0.0.2:8123"
        status, rotated = await call(owner, "POST", f"{BASE}/{rule_id}/secret")
        assert status == 200
        assert rotated["secret"] not in (secret, "")
        status, _ = await call(owner, "DELETE", f"{BASE}/{rule_id}")
        assert status == 200
        status, gone = await call(owner, "GET", f"{BASE}/{rule_id}")
        assert (status, gone["error"]) == (404, "no_such_webhook")

    rows = await _audit(app)
    assert [r.action for r in rows] == [
        "outgoing_webhook.create", "outgoing_webhook.test", "outgoing_webhook.update",
        "outgoing_webhook.rotate_secret", "outgoing_webhook.delete",
    ]  # fmt: skip
    assert {r.actor for r in rows} == {"alice"}
    assert {r.target for r in rows} == {f"outgoing_webhook:{rule_id}"}
    first_host = receiver.base.removeprefix("http://")
    assert rows[0].detail["host"] == first_host
    assert rows[2].detail == {
        "name": "Phone", "changed": ["url"], "old_host": first_host,
        "new_host": "127.0.0.2:8123",
    }  # fmt: skip
    assert rows[4].detail == {"name": "Phone", "host": "127.0.0.2:8123"}
    everything = json.dumps([dict(r.detail) for r in rows])
    for never in (secret, rotated["secret"], "query-token", "secret-path", "/other/path"):
        assert never not in everything
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "outgoing webhook" in logged
    for never in (secret, rotated["secret"], "query-token"):
        assert never not in logged  # the receiver's own access log aside


async def test_creating_re_pointing_and_re_keying_need_the_password_again(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
) -> None:
    owner = await browser()
    otp = await set_up_owner(owner)
    status, created = await call(owner, "POST", BASE, _new("https://ntfy.sh/"))
    assert status == 201
    rule_id = created["webhook"]["id"]
    await _stale(app)  # a stolen cookie, an hour later
    refusals = [
        ("POST", BASE, _new("https://attacker.example/")),
        ("PATCH", f"{BASE}/{rule_id}", {"url": "https://attacker.example/"}),
        ("POST", f"{BASE}/{rule_id}/secret", {}),
    ]
    for method, path, body in refusals:
        status, refused = await call(owner, method, path, body)
        assert (status, refused["error"]) == (403, "reauth_required"), (method, path)
    # Everything else does not reveal or re-point anything: no password needed.
    status, renamed = await call(owner, "PATCH", f"{BASE}/{rule_id}",
                                 {"name": "Renamed", "url": "https://ntfy.sh/"})  # fmt: skip
    assert (status, renamed["name"], renamed["url"]) == (200, "Renamed", "https://ntfy.sh/")
    status, listing = await call(owner, "GET", BASE)
    assert [w["url"] for w in listing["webhooks"]] == ["https://ntfy.sh/"]
    assert [r.action for r in await _audit(app)] == [
        "outgoing_webhook.create", "outgoing_webhook.update",
    ]  # fmt: skip
    code = otp.at(datetime.now(UTC) + timedelta(seconds=30))
    status, _ = await call(owner, "POST", "/api/session/confirm",
                           {"password": OWNER_PASSWORD, "code": code})  # fmt: skip
    assert status == 200
    status, moved = await call(owner, "PATCH", f"{BASE}/{rule_id}", {"url": "https://ntfy.sh/x"})
    assert (status, moved["url"]) == (200, "https://ntfy.sh/x")


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({"template": '{"t": "${nope}"}'}, "invalid_template", "unknown field ${nope}"),
        ({"template": '{"t": '}, "invalid_template", "not JSON"),
        ({"template": '{"t": "${camera_name.__class__}"}'}, "invalid_template", "no placeholder"),
        ({"url": "https://me:pw@ntfy.sh/"}, "invalid_url", "no user name or password"),
        ({"url": "ftp://ntfy.sh/"}, "invalid_url", "http:// or https://"),
        ({"kinds": ["doorbell", "earthquake"]}, "invalid", "kinds.1"),
        ({"kinds": []}, "invalid", "kinds"),
        ({"cameras": ["nowhere"]}, "no_such_camera", "nowhere"),
        ({"cameras": ["../x"]}, "invalid", "cameras.0"),
        ({"enabled": "yes"}, "invalid", "enabled"),
        ({"name": "ring `id`"}, "invalid", "name"),
        ({"colour": "red"}, "invalid", "colour"),
    ],
)
async def test_invalid_rules_are_refused_with_the_reason(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
    change: dict[str, Any],
    error: str,
    reason: str,
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    status, refused = await call(owner, "POST", BASE, {**_new("https://ntfy.sh/"), **change})
    assert (status, refused["error"]) == (422, error), refused
    assert reason in refused["reason"]
    status, created = await call(owner, "POST", BASE, _new("https://ntfy.sh/"))
    assert status == 201
    status, refused = await call(owner, "PATCH", f"{BASE}/{created['webhook']['id']}", change)
    assert (status, refused["error"]) == (422, error), refused
    status, unchanged = await call(owner, "GET", f"{BASE}/{created['webhook']['id']}")
    assert (unchanged["url"], unchanged["kinds"]) == ("https://ntfy.sh/", ["doorbell"])
    assert [r.action for r in await _audit(app)] == ["outgoing_webhook.create"]


@pytest.mark.parametrize("rule_id", ["999", "0", "x", "\u0661", "1" * 13])
async def test_unknown_rules_are_404(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
    rule_id: str,
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/secret"),
                           ("POST", "/test")):  # fmt: skip
        status, refused = await call(owner, method, f"{BASE}/{rule_id}{suffix}", {})
        assert (status, refused["error"]) == (404, "no_such_webhook"), (method, suffix)


async def test_garbage_bodies_are_refused_without_a_server_error(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    status, created = await call(owner, "POST", BASE, _new("https://ntfy.sh/"))
    assert status == 201
    one = f"{BASE}/{created['webhook']['id']}"
    garbage = [b"[" * 20000, b'{"name": ' * 5000, b"\xff\xfe", b"", b"null", b"[]", b'"x"']
    for method, path in (("POST", BASE), ("PATCH", one)):
        for raw in garbage:
            async with owner.request(
                method, path, data=raw, headers={**SAME_ORIGIN, "Content-Type": "application/json"}
            ) as response:
                assert response.status == 422, (method, raw[:20], response.status)
                assert (await response.json())["error"] == "invalid"


async def test_the_list_says_what_a_rule_can_use(
    browser: Browser,  # noqa: F811
    app: web.Application,  # noqa: F811
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    status, listing = await call(owner, "GET", BASE)
    assert (status, listing["webhooks"], listing["max_webhooks"]) == (200, [], 32)
    assert listing["kinds"] == [kind.value for kind in EventKind]
    assert {f["name"] for f in listing["fields"]} >= {"text", "camera_name", "received_at"}
    assert all(f["description"] and f["example"] for f in listing["fields"])
    assert "${text}" in listing["default_template"]
