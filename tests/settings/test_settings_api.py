"""The gateway settings API: owner only, the password again to change, 422 with the reasons for
invalid values (never a 5xx for garbage), every change audited by field name, secrets sealed at
rest and never shown, audited or logged."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from doorstep.gateway.config.automation import MqttConfig
from doorstep.gateway.web.keys import DATABASE, SETTINGS

from ..gateway_client import SAME_ORIGIN, call
from ..web.conftest import OWNER_PASSWORD
from .conftest import StartGateway

SECTIONS = ["discovery", "recording", "retention", "rings", "live", "mqtt", "webhooks", "server"]
BROKER_PASSWORD = "broker-secret-4711"
TURN_PASSWORD = "turn-secret-0815"


def _section(page: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in page["sections"] if s["name"] == name]
    assert isinstance(found, dict)
    return found


async def test_the_page_lists_each_section_with_its_schema_values_and_when_it_applies(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway(discovery={"listen_s": 1.5}, retention={"clip_days": 3})
    owner, _ = await gateway.owner()
    status, page = await call(owner, "GET", "/api/settings")
    assert status == 200
    assert [s["name"] for s in page["sections"]] == SECTIONS
    assert {s["name"]: s["applies"] for s in page["sections"]} == {
        "discovery": "now", "recording": "now", "retention": "now", "rings": "now", "live": "now",
        "mqtt": "restart", "webhooks": "restart", "server": "restart",
    }  # fmt: skip
    discovery = _section(page, "discovery")
    assert discovery["value"] == {"targets": [], "interfaces": [], "listen_s": 1.5, "mdns": False}
    assert discovery["overridden"] == []
    assert discovery["restart_pending"] is False
    assert discovery["schema"]["properties"]["listen_s"]["maximum"] == 30
    assert discovery["schema"]["properties"]["targets"]["description"]
    retention = _section(page, "retention")
    assert retention["value"] == {
        "clip_days": 3, "continuous_days": 3, "event_days": 30, "min_free_mib": 1024,
    }  # fmt: skip
    assert retention["file_only"] == []
    recording = _section(page, "recording")
    assert recording["value"]["mode"] == "off"  # what the test config sets
    assert recording["file_only"] == ["max_clip_s", "segment_s"]
    server = _section(page, "server")
    assert set(server["value"]) == {"tls", "hostnames"}
    assert server["file_only"] == ["host", "port"]
    assert _section(page, "mqtt")["value"] is None  # no broker: off
    password = _section(page, "mqtt")["schema"]["properties"]["password"]["anyOf"][0]
    assert password["writeOnly"] is True
    file_only = {f["path"]: f["reason"] for f in page["file_only"]}
    assert {"server.host", "server.port", "storage", "logging"} <= set(file_only)
    assert file_only["recording.segment_s"].startswith("Set in config.yaml")
    assert page["restart_pending"] == []


async def test_only_the_owner_reaches_the_settings(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    calls = [
        ("GET", "/api/settings", None),
        ("PUT", "/api/settings/rings", {"ring_s": 20}),
        ("DELETE", "/api/settings/rings/ring_s", {}),
        ("DELETE", "/api/settings/rings", {}),
    ]
    anonymous = await gateway.browser()
    for role in ("resident", "neighbour"):
        client = await gateway.signed_in(f"a {role}", role)
        for method, path, body in calls:
            status, answer = await call(client, method, path, body)
            assert (status, answer["error"]) == (403, "owner_only"), (role, method, path)
            assert (await call(anonymous, method, path, body))[0] == 401, (method, path)
    assert gateway.app[SETTINGS].config.rings.ring_s == 60.0
    assert await gateway.audited() == []
    assert (await call(owner, "GET", "/api/settings"))[0] == 200


async def test_a_change_needs_the_password_again(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()
    owner, otp = await gateway.owner()
    assert (await call(owner, "PUT", "/api/settings/rings", {"ring_s": 30}))[0] == 200
    await gateway.stale()  # a stolen cookie, an hour later
    for method, path, body in [
        ("PUT", "/api/settings/rings", {"ring_s": 20}),
        ("DELETE", "/api/settings/rings/ring_s", {}),
        ("DELETE", "/api/settings/rings", {}),
    ]:
        status, refused = await call(owner, method, path, body)
        assert (status, refused["error"]) == (403, "reauth_required"), (method, path)
    assert (await call(owner, "GET", "/api/settings"))[0] == 200  # reading needs no password
    assert gateway.app[SETTINGS].config.rings.ring_s == 30.0
    code = otp.at(datetime.now(UTC) + timedelta(seconds=30))
    confirm = {"password": OWNER_PASSWORD, "code": code}
    assert (await call(owner, "POST", "/api/session/confirm", confirm))[0] == 200
    status, rings = await call(owner, "PUT", "/api/settings/rings", {"ring_s": 20})
    assert (status, rings["value"], rings["overridden"]) == (200, {"ring_s": 20.0}, ["ring_s"])


INVALID = [
    ("discovery", {"targets": ["$(id)"]}, "targets[0]", "host name or an IP address"),
    ("discovery", {"listen_s": 0}, "listen_s", "greater than 0"),
    ("retention", {"event_days": 0}, "event_days", "greater than or equal to 1"),
    ("retention", {"clip_days": 0}, "clip_days", "greater than or equal to 1"),
    ("recording", {"mode": "always"}, "mode", "'events', 'continuous' or 'off'"),
    ("recording", {"segment_s": 60}, "segment_s", "set in config.yaml only"),
    ("server", {"port": 8080}, "port", "set in config.yaml only"),
    ("server", {"host": "192.168.1.2"}, "host", "set in config.yaml only"),
    ("rings", {"ring": 5}, "ring", "not a setting of this section"),
    ("live", {"ice_servers": [{"urls": ["turn:127.0.0.1:3478"]}]}, "ice_servers[0]",
     "TURN server needs username and credential"),
    ("live", {"ice_servers": ["http://example.org/"]}, "ice_servers[0].urls[0]", "stun:"),
    ("mqtt", {"port": 1883}, "host", "Field required"),
    ("mqtt", {"host": "broker", "password": "x"}, "mqtt", "a password needs a username"),
    ("server", {"tls": {"cert": "/nonexistent/cert.pem", "key": "/nonexistent/key.pem"}},
     "tls", "no such file"),
    ("webhooks", {"enabled": True, "host": "192.0.2.1"}, "host", "cannot listen on 192.0.2.1"),
    ("webhooks", {"enabled": True, "port": 70000}, "port", "less than or equal to 65535"),
]  # fmt: skip


async def test_invalid_values_are_refused_with_the_reason_and_change_nothing(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    _, before = await call(owner, "GET", "/api/settings")
    for section, body, field, words in INVALID:
        status, refused = await call(owner, "PUT", f"/api/settings/{section}", body)
        assert (status, refused["error"]) == (422, "invalid"), (section, body, refused)
        fields = {p["field"]: p["message"] for p in refused["problems"]}
        assert field in fields, (section, body, refused)
        assert words in fields[field], (section, body, fields)
        assert words in refused["reason"]
    # The web UI's own port is taken: the listener could not start after a restart.
    taken = {"enabled": True, "host": "127.0.0.1", "port": gateway.server.port}
    status, refused = await call(owner, "PUT", "/api/settings/webhooks", taken)
    assert (status, refused["problems"][0]["field"]) == (422, "host")
    assert f"cannot listen on 127.0.0.1:{gateway.server.port}" in refused["reason"]
    status, missing = await call(owner, "PUT", "/api/settings/storage", {"data_dir": "/tmp"})
    assert (status, missing["error"]) == (404, "no_such_setting")
    status, missing = await call(owner, "DELETE", "/api/settings/server/port", {})
    assert (status, missing["error"]) == (404, "no_such_setting")
    assert (await call(owner, "GET", "/api/settings")) == (200, before)
    assert await gateway.audited() == []


GARBAGE: list[Any] = [
    [], "text", 7, True, [{"ring_s": 5}],
    {"ring_s": "soon"}, {"ring_s": None}, {"ring_s": 1e309}, {"ring_s": [[[[[]]]]]},
    {"ring_s": {"$sealed": "x"}}, {"ring_s_set": True}, {"": 1}, {"x" * 5000: 1},
]  # fmt: skip
GARBAGE_ELSEWHERE: list[tuple[str, Any]] = [
    ("discovery", {"targets": {"a": 1}}),
    ("discovery", {"targets": ["h" * 300]}),
    ("discovery", {"interfaces": ["\x00"]}),
    ("live", {"ice_servers": [{"urls": "stun:a", "credential_set": "yes"}]}),
    ("live", {"ice_servers": [None, 1, "x"]}),
    ("mqtt", {"host": "broker", "tls": {"enabled": True, "ca_file": "~no-such-user-x/ca.pem"}}),
    ("mqtt", {"host": "broker", "tls": None}),
    ("server", {"tls": {"cert": "\x00", "key": "\x00"}}),
    ("server", {"hostnames": ["a" * 70]}),
    ("webhooks", {"advertise": "not a host!"}),
]


async def test_garbage_gets_a_4xx_never_a_server_error(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    _, before = await call(owner, "GET", "/api/settings")
    for body in GARBAGE:
        status, answer = await call(owner, "PUT", "/api/settings/rings", body)
        assert (status, answer["error"]) == (422, "invalid"), (body, answer)
    for section, body in GARBAGE_ELSEWHERE:
        status, answer = await call(owner, "PUT", f"/api/settings/{section}", body)
        assert status == 422, (section, body, status, answer)
        assert answer["reason"], (section, body)
    async with owner.put("/api/settings/rings", data=b"{not json", headers={
        **SAME_ORIGIN, "Content-Type": "application/json",
    }) as response:  # fmt: skip
        assert response.status == 422
    status, _ = await call(owner, "PUT", "/api/settings/rings", {"ring_s": 5, "x": "y" * 40_000})
    assert status == 413
    assert (await call(owner, "GET", "/api/settings")) == (200, before)


async def test_each_change_is_audited_with_the_fields_it_changed(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    change = {"targets": ["127.0.0.1:3702"], "interfaces": [], "listen_s": 3.0}
    status, view = await call(owner, "PUT", "/api/settings/discovery", change)
    assert (status, view["overridden"]) == (200, ["targets"])  # the others are the file's
    assert (await call(owner, "PUT", "/api/settings/discovery", change))[0] == 200  # no change
    status, view = await call(owner, "DELETE", "/api/settings/discovery/targets", {})
    assert (status, view["overridden"], view["value"]["targets"]) == (200, [], [])
    assert (await call(owner, "DELETE", "/api/settings/discovery/targets", {}))[0] == 200
    rows = await gateway.audited()
    assert [(r.actor, r.target, dict(r.detail)) for r in rows] == [
        ("alice", "settings:discovery", {"section": "discovery", "fields": ["targets"]}),
        ("alice", "settings:discovery",
         {"section": "discovery", "fields": ["targets"], "reverted": True}),
    ]  # fmt: skip
    _, audit = await call(owner, "GET", "/api/audit?action=settings.update")
    assert [r["summary"] for r in audit["rows"]][-1].startswith(
        "alice changed the discovery settings (targets)"
    )


async def test_secrets_are_sealed_at_rest_and_never_shown_audited_or_logged(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    broker = {"host": "127.0.0.1", "port": 9, "username": "ha", "password": BROKER_PASSWORD}
    status, mqtt = await call(owner, "PUT", "/api/settings/mqtt", broker)
    assert status == 200
    assert mqtt["value"]["password_set"] is True
    assert "password" not in mqtt["value"]
    assert (mqtt["applies"], mqtt["restart_pending"]) == ("restart", True)
    # The form sends back what it was shown: the password stays.
    shown = {**mqtt["value"], "keepalive_s": 60}
    status, mqtt = await call(owner, "PUT", "/api/settings/mqtt", shown)
    assert (status, mqtt["value"]["keepalive_s"], mqtt["value"]["password_set"]) == (200, 60, True)
    current = gateway.app[SETTINGS].current("mqtt")
    assert isinstance(current, MqttConfig)
    assert current.password is not None
    assert current.password.get_secret_value() == BROKER_PASSWORD

    turn = {"urls": ["turn:127.0.0.1:3478"], "username": "door", "credential": TURN_PASSWORD}
    status, live = await call(owner, "PUT", "/api/settings/live", {"ice_servers": [turn]})
    assert status == 200
    (server,) = live["value"]["ice_servers"]
    assert server == {"urls": ["turn:127.0.0.1:3478"], "username": "door", "credential_set": True}
    # A TURN server sent back as shown keeps its credential, next to a new STUN server.
    more = {"ice_servers": [server, {"urls": ["stun:127.0.0.1:3478"]}]}
    status, live = await call(owner, "PUT", "/api/settings/live", more)
    assert status == 200
    assert [s["credential_set"] for s in live["value"]["ice_servers"]] == [True, False]
    _, ice = await call(owner, "GET", "/api/live/ice")  # the page's peer connection gets it
    assert ice["ice_servers"][0]["credential"] == TURN_PASSWORD

    _, page = await call(owner, "GET", "/api/settings")
    _, health = await call(owner, "GET", "/api/health")
    assert health["restart_pending"] is True
    assert page["restart_pending"] == ["mqtt"]
    stored = await gateway.app[DATABASE].durable.fetchall("SELECT key, value FROM settings")
    at_rest = json.dumps([tuple(row) for row in stored])
    assert "gateway.mqtt" in at_rest
    assert "$sealed" in at_rest
    audit = json.dumps([dict(r.detail) for r in await gateway.audited()])
    assert '"password"' in audit  # the field's name only
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "changed the mqtt settings" in logged
    for secret in (BROKER_PASSWORD, TURN_PASSWORD):
        assert secret not in json.dumps(page)
        assert secret not in at_rest
        assert secret not in audit
        assert secret not in logged

    status, mqtt = await call(owner, "PUT", "/api/settings/mqtt", {"password": None})
    assert (status, mqtt["value"]["password_set"]) == (200, False)
    status, mqtt = await call(owner, "DELETE", "/api/settings/mqtt", {})
    assert (status, mqtt["value"], mqtt["overridden"], mqtt["restart_pending"]) == (
        200, None, [], False,
    )  # fmt: skip
    _, health = await call(owner, "GET", "/api/health")
    assert health["restart_pending"] is False
