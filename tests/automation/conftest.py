"""Fixtures for the MQTT tests: a real Mosquitto, throw-away certificates, the gateway app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.app import build_app
from doorstep.gateway.bus.event_bus import Subscription
from doorstep.gateway.config.models import Config
from doorstep.gateway.events import BusEvent
from doorstep.gateway.web.keys import BUS

from ..integration.conftest import ClientFactory, Gateway
from ..peers.mosquitto import Broker, Certificates, make_certificates, start_broker
from ..simulator.conftest import media, simulator_factory  # noqa: F401  # fixtures
from .mqtt_peer import Subscriber


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA with server and client certificates, made once per session."""
    return make_certificates(tmp_path_factory.mktemp("mqtt-certs"))


@pytest.fixture
def broker(tmp_path: Path, certificates: Certificates) -> Iterator[Broker]:
    """A fresh broker (plain and TLS listeners, password required) for one test."""
    running = start_broker(tmp_path / "broker", certificates)
    yield running
    running.stop()


@pytest.fixture
def topics() -> dict[str, str]:
    """A discovery prefix and base topic of this test's own (nothing left over can match)."""
    token = uuid.uuid4().hex[:8]
    return {"discovery_prefix": f"ha-{token}", "base_topic": f"doorstep-{token}"}


def mqtt_settings(broker: Broker, topics: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """An `mqtt:` section pointing at `broker`'s plain listener with its credentials."""
    return {
        "host": "127.0.0.1", "port": broker.port, "username": broker.user,
        "password": broker.password, **topics, **overrides,
    }  # fmt: skip


@pytest.fixture
async def subscribers() -> AsyncIterator[Callable[..., Awaitable[Subscriber]]]:
    """Connect subscribers to a broker; all are closed at the end of the test."""
    made: list[Subscriber] = []

    async def connect(broker: Broker, *filters: str, tls: bool = False) -> Subscriber:
        subscriber = await Subscriber.connect(
            broker, *filters, tls=tls, identifier=f"test-{len(made)}-{uuid.uuid4().hex[:6]}"
        )
        made.append(subscriber)
        return subscriber

    yield connect
    for subscriber in made:
        await subscriber.close()


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start_mqtt_gateway(aiohttp_client: ClientFactory, tmp_path: Path) -> StartGateway:
    """Build and start a gateway app for the given cameras and config fields (`mqtt=…`)."""

    async def start(cameras: list[dict[str, Any]], **fields: Any) -> Gateway:
        config = Config.model_validate(
            # Recording off unless asked for: these gateways test MQTT (tests/recording records).
            {
                "storage": {"data_dir": tmp_path / "data"},
                "cameras": cameras,
                "recording": {"mode": "off"},
                **fields,
            }
        )
        app = await asyncio.to_thread(build_app, config)
        tap: list[Subscription[BusEvent]] = []

        async def attach(app: web.Application) -> AsyncIterator[None]:
            tap.append(app[BUS].stream("test-tap", (BusEvent,), 100_000))
            yield

        app.cleanup_ctx.insert(len(app.cleanup_ctx) - 1, attach)  # just before the cameras
        client = await aiohttp_client(app)
        return Gateway(client, tap[0])

    return start
