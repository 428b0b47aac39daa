"""A real MQTT subscriber (aiomqtt) for tests and bench/notify.py: records what the broker sends.

`press_to_mqtt` times a doorbell press to its message at the subscriber: the bench's figure
(tests assert behaviour, never this latency).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from tests.peers.mosquitto import Broker


@dataclass(frozen=True, slots=True)
class Received:
    """One message as the subscriber got it."""

    topic: str
    payload: bytes
    retain: bool
    at: float
    """time.perf_counter() when it arrived."""

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)

    @property
    def text(self) -> str:
        """The payload as text."""
        return self.payload.decode()


class Subscriber:
    """An aiomqtt client subscribed to some filters; every message is kept in arrival order."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[Received] = []
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        broker: Broker,
        *filters: str,
        tls: bool = False,
        identifier: str = "test-subscriber",
    ) -> Subscriber:
        """Connect (over TLS to the TLS listener when asked) and subscribe to `filters`."""
        context = None
        port = broker.port
        if tls:
            assert broker.certificates is not None
            assert broker.tls_port is not None
            context = await asyncio.to_thread(
                ssl.create_default_context, cafile=str(broker.certificates.ca)
            )
            if broker.require_client_cert:
                certs = broker.certificates
                await asyncio.to_thread(
                    context.load_cert_chain, certs.client_cert, certs.client_key
                )
            port = broker.tls_port
        client = aiomqtt.Client(
            "127.0.0.1", port, username=broker.user, password=broker.password,
            identifier=identifier, tls_context=context, timeout=15,
        )  # fmt: skip
        await client.__aenter__()
        subscriber = cls(client)
        subscriber._task = asyncio.create_task(subscriber._collect())
        for topic_filter in filters:
            await client.subscribe(topic_filter, qos=1)
        return subscriber

    async def _collect(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in self.client.messages:
                payload = message.payload
                data = payload if isinstance(payload, bytes) else str(payload).encode()
                received = Received(message.topic.value, data, message.retain, time.perf_counter())
                async with self._arrived:
                    self.messages.append(received)
                    self._arrived.notify_all()

    async def wait_for(
        self,
        topic: str,
        match: Callable[[Received], bool] = lambda _: True,
        timeout: float = 20.0,
        after: int = 0,
    ) -> Received:
        """The first message on `topic` (a filter may have wildcards) from index `after` on
        that `match`es, waiting for it."""
        async with asyncio.timeout(timeout), self._arrived:
            index = after
            while True:
                for received in self.messages[index:]:
                    if aiomqtt.Topic(received.topic).matches(topic) and match(received):
                        return received
                index = len(self.messages)
                await self._arrived.wait()

    def latest(self) -> dict[str, Received]:
        """The last message on each topic."""
        return {m.topic: m for m in self.messages}

    async def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish as Home Assistant would (its birth message, say)."""
        await self.client.publish(topic, payload, qos=1, retain=retain)

    async def close(self) -> None:
        """Disconnect cleanly."""
        with contextlib.suppress(aiomqtt.MqttError):
            await self.client.__aexit__(None, None, None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def press_to_mqtt(
    subscriber: Subscriber, event_topic: str, press: Callable[[], object], timeout: float = 10.0
) -> float:
    """Seconds from `press()` (a simulated doorbell's press) to its ring message at the subscriber.

    `event_topic` is the doorbell's event topic (`<base>/<camera>/doorbell/event`); only a
    message arriving after the press counts.
    """
    after = len(subscriber.messages)
    pressed = time.perf_counter()
    press()
    received = await subscriber.wait_for(
        event_topic, lambda m: m.json().get("event_type") == "ring", timeout, after
    )
    return received.at - pressed
