"""Across restarts the owner's settings stay over config.yaml's, until the file's value of that
field is edited: then the file wins and the override is dropped (logged), secrets included."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from doorstep.gateway.config.automation import MqttConfig
from doorstep.gateway.web.keys import DATABASE, MQTT, RINGS, SETTINGS, STORAGE

from ..gateway_client import call
from .conftest import Gateway, StartGateway

FILE_PASSWORD, UI_PASSWORD, NEW_FILE_PASSWORD = "file-pass-0001", "ui-pass-0002", "file-pass-0003"


async def _stored(gateway: Gateway, key: str) -> str:
    """A section's row in the settings table, as stored."""
    rows = await gateway.app[DATABASE].durable.fetchall(
        "SELECT value FROM settings WHERE key = ?", (key,)
    )
    return str(rows[0]["value"]) if rows else ""


async def test_an_override_lasts_until_the_file_changes_that_field(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "doorstep.gateway.settings")
    file = {"discovery": {"listen_s": 2.0}, "rings": {"ring_s": 60}}
    gateway = await start_gateway(**file)
    owner, _ = await gateway.owner()
    change = {"listen_s": 1.5, "targets": ["127.0.0.1:9"]}
    assert (await call(owner, "PUT", "/api/settings/discovery", change))[0] == 200
    assert (await call(owner, "PUT", "/api/settings/rings", {"ring_s": 20}))[0] == 200
    await gateway.server.close()

    gateway = await start_gateway(**file)  # the same file: the owner's values apply
    settings = gateway.app[SETTINGS]
    assert (settings.config.discovery.listen_s, settings.config.discovery.targets) == (
        1.5, ["127.0.0.1:9"],
    )  # fmt: skip
    assert gateway.app[RINGS].ring_s == 20.0  # started with it
    assert settings.view("discovery").overridden == ["listen_s", "targets"]
    assert "changed since it was set in the UI" not in caplog.text
    await gateway.server.close()

    edited = {**file, "discovery": {"listen_s": 2.5}}
    gateway = await start_gateway(**edited)  # the file's listen_s was edited: the file wins
    settings = gateway.app[SETTINGS]
    assert settings.config.discovery.listen_s == 2.5
    assert settings.config.discovery.targets == ["127.0.0.1:9"]  # that field is still the UI's
    assert settings.view("discovery").overridden == ["targets"]
    assert settings.config.rings.ring_s == 20.0
    assert "config.yaml's discovery.listen_s changed since it was set in the UI" in caplog.text
    assert "listen_s" not in await _stored(gateway, "gateway.discovery")
    await gateway.server.close()

    gateway = await start_gateway(**{**file, "discovery": {"listen_s": 1.5}})
    settings = gateway.app[SETTINGS]  # the dropped override does not come back
    assert settings.view("discovery").overridden == ["targets"]


async def test_a_secret_set_in_the_ui_stays_sealed_until_the_file_changes_it(
    start_gateway: StartGateway,
) -> None:
    file = {"mqtt": {"host": "127.0.0.1", "port": 9, "username": "ha", "password": FILE_PASSWORD}}
    gateway = await start_gateway(**file)
    owner, _ = await gateway.owner()
    status, view = await call(owner, "PUT", "/api/settings/mqtt", {"password": UI_PASSWORD})
    assert (status, view["overridden"], view["restart_pending"]) == (200, ["password"], True)
    stored = await _stored(gateway, "gateway.mqtt")
    assert "$sealed" in stored
    assert UI_PASSWORD not in stored
    assert FILE_PASSWORD not in stored
    assert json.loads(stored)["fields"].keys() == {"password"}
    await gateway.server.close()

    gateway = await start_gateway(**file)
    mqtt = gateway.app[SETTINGS].current("mqtt")
    assert isinstance(mqtt, MqttConfig)
    assert mqtt.password is not None
    assert mqtt.password.get_secret_value() == UI_PASSWORD
    assert gateway.app[MQTT].settings.password == mqtt.password  # the publisher started with it
    assert gateway.app[SETTINGS].restart_pending() == []
    await gateway.server.close()

    new = {"mqtt": {**file["mqtt"], "password": NEW_FILE_PASSWORD}}
    gateway = await start_gateway(**new)
    mqtt = gateway.app[SETTINGS].current("mqtt")
    assert isinstance(mqtt, MqttConfig)
    assert mqtt.password is not None
    assert mqtt.password.get_secret_value() == NEW_FILE_PASSWORD
    assert gateway.app[SETTINGS].view("mqtt").overridden == []


async def test_a_broker_set_in_the_ui_survives_a_file_without_one(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway()
    owner, _ = await gateway.owner()
    status, _ = await call(owner, "PUT", "/api/settings/mqtt", {"host": "127.0.0.1", "port": 9})
    assert status == 200
    assert MQTT not in gateway.app  # after a restart
    await gateway.server.close()
    gateway = await start_gateway()
    assert gateway.app[MQTT].broker == "127.0.0.1:9"
    await gateway.server.close()
    gateway = await start_gateway(mqtt={"host": "127.0.0.2"})  # now the file has a broker
    assert gateway.app[MQTT].broker == "127.0.0.2:1883"
    assert gateway.app[SETTINGS].view("mqtt").overridden == []


async def test_stored_settings_that_cannot_be_used_leave_the_files_with_a_log_line(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await start_gateway()
    settings, now = gateway.app[STORAGE].settings, datetime.now(UTC)
    # Written by hand (a restored backup, another version): too short, unreadable, another key.
    await settings.put("gateway.rings", {"fields": {"ring_s": {"value": 1.0, "base": 60.0}}},
                       now, "test")  # fmt: skip
    await settings.put("gateway.discovery", {"fields": 3}, now, "test")
    other_key = Fernet.generate_key()
    sealed = Fernet(other_key).encrypt(b"x-secret-x").decode()
    base = {"$absent": True}
    await settings.put("gateway.mqtt", {"fields": {
        "host": {"value": "127.0.0.1", "base": base},
        "username": {"value": "ha", "base": base},
        "password": {"value": {"$sealed": sealed}, "base": base},
    }}, now, "test")  # fmt: skip
    await gateway.server.close()

    gateway = await start_gateway()
    config = gateway.app[SETTINGS].config
    assert config.rings.ring_s == 60.0
    assert config.discovery.targets == []
    assert config.mqtt is not None
    assert (config.mqtt.host, config.mqtt.username, config.mqtt.password) == (
        "127.0.0.1",
        "ha",
        None,
    )
    assert "the rings settings changed in the UI are not valid (ring_s:" in caplog.text
    assert "the stored discovery settings are unreadable" in caplog.text
    assert "mqtt.password holds a secret this gateway's key cannot decrypt" in caplog.text
    assert "x-secret-x" not in caplog.text
