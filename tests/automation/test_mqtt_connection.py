"""The MQTT connection itself against a real Mosquitto: TLS, credentials, the will, opting in."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from doorstep.gateway.automation.mqtt import MqttPublisher
from doorstep.gateway.automation.mqtt_outbox import Backoff
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.config.automation import MqttConfig
from doorstep.gateway.events import CameraState, CameraStateChanged
from doorstep.gateway.keys.redaction import registered_secrets
from doorstep.gateway.web.keys import BUS, MQTT
from doorstep.sdk import DeviceInfo

from ..conftest import GatewayProcess, free_port
from ..peers.mosquitto import Broker, Certificates, start_broker
from .conftest import StartGateway, mqtt_settings
from .mqtt_peer import Subscriber

Connect = Callable[..., Awaitable[Subscriber]]
Started = Callable[..., Awaitable[MqttPublisher]]
LOGGER = "doorstep.gateway.automation.mqtt"


@pytest.fixture
async def publisher() -> AsyncIterator[Started]:
    """Start MqttPublishers on a bus of their own, retrying fast; all are stopped at the end."""
    started: list[MqttPublisher] = []

    async def start(settings: dict[str, Any]) -> MqttPublisher:
        bus = EventBus()
        made = MqttPublisher(
            MqttConfig.model_validate(settings), bus, lambda: {"porch": "Porch"}, "test",
            backoff=Backoff(0.05, 0.2),
        )  # fmt: skip
        await made.start()
        bus.publish(CameraStateChanged("porch", CameraState.ONLINE, info=DeviceInfo(
            manufacturer="Acme", model="Bell"
        )))  # fmt: skip
        started.append(made)
        return made

    yield start
    for made in started:
        await made.stop()


def connections(broker: Broker) -> int:
    """TCP connections the broker has accepted so far, its readiness probes included."""
    return broker.log().count("New connection from")


def clients(broker: Broker) -> int:
    """MQTT sessions the broker has accepted so far (CONNECT with good credentials)."""
    return broker.log().count("New client connected")


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("client_certificate", [False, True])
async def test_tls_with_credentials_publishes(
    publisher: Started,
    certificates: Certificates,
    tmp_path: Path,
    topics: dict[str, str],
    subscribers: Connect,
    client_certificate: bool,
) -> None:
    broker = start_broker(tmp_path / "tls", certificates, require_client_cert=client_certificate)
    try:
        tls: dict[str, Any] = {"enabled": True, "ca_file": str(certificates.ca)}
        if client_certificate:
            tls |= {"cert_file": str(certificates.client_cert),
                    "key_file": str(certificates.client_key)}  # fmt: skip
        settings = mqtt_settings(broker, topics, port=broker.tls_port, tls=tls)
        running = await publisher(settings)
        base = topics["base_topic"]
        watch = await subscribers(broker, f"{base}/#", tls=True)
        assert (await watch.wait_for(f"{base}/status")).text == "online"
        assert (await watch.wait_for(f"{base}/porch/availability")).text == "online"
        assert running.connected
        assert "New client connected" in broker.log()
    finally:
        await asyncio.to_thread(broker.stop)


async def test_an_untrusted_broker_certificate_is_refused_with_one_log_line(
    publisher: Started,
    broker: Broker,
    topics: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    # No ca_file: the system's CAs, which never signed the test broker's certificate.
    running = await publisher(
        mqtt_settings(broker, topics, port=broker.tls_port, tls={"enabled": True})
    )
    await until(lambda: connections(broker) >= 2 + 3)  # a probe per listener, then 3 attempts
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == LOGGER]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "CERTIFICATE_VERIFY_FAILED" in warnings[0].getMessage()
    assert not running.connected
    assert running.status().last_error is not None


async def test_wrong_credentials_give_one_clear_log_line_without_the_password(
    publisher: Started,
    broker: Broker,
    topics: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "doorstep")
    caplog.set_level(logging.DEBUG, "paho")
    wrong = "wr0ng-passw0rd"
    running = await publisher(mqtt_settings(broker, topics, password=wrong))
    await until(lambda: broker.log().count("not authorised") >= 3)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == LOGGER]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "refused the credentials" in warnings[0].getMessage()
    assert "mqtt.username and password" in warnings[0].getMessage()
    assert wrong not in caplog.text
    assert wrong in registered_secrets(), "the CLI's log redaction knows it too"
    assert not running.connected


async def test_the_will_says_offline_when_the_gateway_dies(
    broker: Broker, topics: dict[str, str], subscribers: Connect, tmp_path: Path
) -> None:
    base = topics["base_topic"]
    config = tmp_path / "doorstep.yaml"
    config.write_text(
        f"server: {{port: {free_port()}}}\n"
        f"storage: {{data_dir: {tmp_path / 'data'}}}\n"
        "mqtt:\n"
        f"  host: 127.0.0.1\n  port: {broker.port}\n  username: {broker.user}\n"
        "  password: ${MQTT_PASSWORD}\n"
        f"  discovery_prefix: {topics['discovery_prefix']}\n  base_topic: {base}\n"
    )
    watch = await subscribers(broker, f"{base}/status")
    process = GatewayProcess(
        ["run", "--config", str(config)], tmp_path / "gateway.log",
        {"MQTT_PASSWORD": broker.password},
    )  # fmt: skip
    try:
        await watch.wait_for(f"{base}/status", lambda m: m.text == "online", timeout=60)
        mark = len(watch.messages)
        os.kill(process.proc.pid, signal.SIGKILL)  # no goodbye: the broker sends the will
        will = await watch.wait_for(f"{base}/status", lambda m: m.text == "offline", after=mark)
        assert will.text == "offline"
    finally:
        await asyncio.to_thread(process.close)
    output = process.output()
    assert "MQTT connected to 127.0.0.1" in output
    assert broker.password not in output


async def test_nothing_connects_when_mqtt_is_not_configured(
    start_mqtt_gateway: StartGateway, broker: Broker
) -> None:
    before = clients(broker)
    gateway = await start_mqtt_gateway([])
    await asyncio.sleep(1.0)
    assert MQTT not in gateway.app
    assert "mqtt" not in {s.name for s in gateway.app[BUS].stats()}
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("mqtt")]
    assert clients(broker) == before == 0


async def test_tls_without_verification_connects_and_says_so(
    publisher: Started,
    broker: Broker,
    topics: dict[str, str],
    subscribers: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    tls = {"enabled": True, "verify": False}  # no CA given: only works unverified
    await publisher(mqtt_settings(broker, topics, host="localhost", port=broker.tls_port, tls=tls))
    watch = await subscribers(broker, f"{topics['base_topic']}/status")
    assert (await watch.wait_for(f"{topics['base_topic']}/status")).text == "online"
    assert any("without verifying the broker" in r.getMessage() for r in caplog.records)
