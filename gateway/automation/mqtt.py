"""Publishes cameras to an MQTT broker with Home Assistant discovery (the `mqtt:` section).

One aiomqtt client with a last will: `<base>/status` is `offline` (retained) when the
connection dies, `online` (retained) after each connect, and `offline` is published before a
clean disconnect (which sends no will). aiomqtt does not reconnect: `_run` does, with jittered
backoff, and republishes the discovery configs and every current state after each connect and
whenever Home Assistant announces itself on `<prefix>/status`.

Delivery: the bus never waits for the broker. The bus subscription is bounded per camera and
its handler only updates `MqttState` and queues messages in a bounded `Outbox` (bytes and
count). While the broker is unreachable nothing is queued: states are republished from the
model on reconnect, and momentary events (a doorbell's ring on the event entity) are dropped,
logged once per outage. A broker too slow to keep up loses the oldest queued messages (logged
once) and gets the retained picture again when it has caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import aiomqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.reasoncodes import ReasonCode

from doorstep.gateway.automation.ha_discovery import ENTITY_KINDS, OFFLINE, ONLINE, Topics
from doorstep.gateway.automation.mqtt_outbox import Backoff, Outbox
from doorstep.gateway.automation.mqtt_state import MqttState, Outgoing
from doorstep.gateway.bus.event_bus import EventBus, Subscription
from doorstep.gateway.config.automation import MqttConfig, MqttTlsConfig
from doorstep.gateway.events import BusEvent, CameraEventReceived, CameraStateChanged
from doorstep.gateway.keys.redaction import register_secret
from doorstep.gateway.storage import EventRepository, StorageError
from doorstep.sdk import EventKind

_log = logging.getLogger(__name__)


class _DebugOnly(logging.Filter):
    """paho-mqtt's own lines at DEBUG: `_lost` already says, once, what went wrong."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_client_log = logging.getLogger(f"{__name__}.client")
_client_log.addFilter(_DebugOnly())

CameraNames = Callable[[], Mapping[str, str]]
"""The supervised cameras, id → display name (a camera missing from it has been removed)."""

QUEUE_PER_CAMERA = 64
"""Bus events waiting per camera; a camera flooding past it drops its own oldest."""
OPERATION_TIMEOUT_S = 10.0
STOP_FLUSH_S = 1.0
"""At shutdown, how long what is queued may take to go out before `offline` is published."""
STOP_TIMEOUT_S = 2.5
"""Shutdown has a 5 s budget in all; the MQTT step takes at most this of it."""
BIRTH_JITTER_S = 1.0
"""Home Assistant asks publishers to wait a random moment before answering its birth message."""
_AUTH_CODES = frozenset({4, 5, 134, 135})
"""CONNACK codes meaning bad credentials / not authorised (MQTT 3.1.1 and 5)."""


class _ClosingSSLSocket(ssl.SSLSocket):
    """Closes itself when the TLS handshake fails (paho-mqtt 2.2 leaves that socket open)."""

    def do_handshake(self, block: bool = False) -> None:
        """The handshake; on failure the socket is closed before the error goes on."""
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def tls_context(settings: MqttTlsConfig) -> ssl.SSLContext:
    """The client TLS context the settings describe (blocking: reads the PEM files)."""
    ca = settings.ca_file
    context = ssl.create_default_context(cafile=None if ca is None else str(ca))
    context.sslsocket_class = _ClosingSSLSocket
    if settings.cert_file is not None and settings.key_file is not None:
        context.load_cert_chain(settings.cert_file, settings.key_file)
    if not settings.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe(exc: Exception) -> str:
    """Why a connection failed or ended, in words for the log (never a secret)."""
    if isinstance(exc, MqttConnectError):
        rc = exc.rc
        code = rc.value if isinstance(rc, ReasonCode) else rc
        if code in _AUTH_CODES:
            return f"the broker refused the credentials ({exc}): check mqtt.username and password"
        return f"the broker refused the connection ({exc})"
    if isinstance(exc, aiomqtt.MqttError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, OSError):  # ssl.SSLError included: reading the PEM files
        return f"TLS setup failed ({type(exc).__name__}: {exc}): check mqtt.tls"
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class MqttStatus:
    """The publisher's health: for /api/health and the settings page."""

    connected: bool
    broker: str
    since: datetime | None
    """When it connected, or when it lost (or never had) the connection."""
    last_error: str | None
    published: int
    dropped_events: int
    """Momentary events (rings) not sent because the broker was unreachable."""
    dropped_queued: int
    """Queued messages dropped because the broker was too slow (states were resent)."""
    queued_bytes: int


class MqttPublisher:
    """The gateway's MQTT client: discovery, availability, states and ring events."""

    def __init__(
        self,
        settings: MqttConfig,
        bus: EventBus,
        cameras: CameraNames,
        version: str,
        history: EventRepository | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.discovery_prefix, settings.base_topic)
        self.broker = f"{settings.host}:{settings.effective_port}"
        self._password = None if settings.password is None else settings.password.get_secret_value()
        register_secret(self._password)
        self._bus = bus
        self._cameras = cameras
        self._history = history
        self._backoff = backoff or Backoff()
        self._state = MqttState(self.topics, version, self._schedule_off)
        self._outbox = Outbox()
        self._timers: dict[tuple[str, str, str | None], asyncio.TimerHandle] = {}
        self._subscription: Subscription[BusEvent] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.connected = False
        self._since: datetime | None = None
        self._down_since: float | None = None
        self._last_error: str | None = None
        self._overflow_logged = False
        self._dropping_logged = False
        self._resync_failed = False
        self.published = 0
        self.dropped_events = 0

    async def start(self) -> None:
        """Follow the bus and connect in the background (a missing broker is retried)."""
        if not self.settings.tls.verify and self.settings.tls.enabled:
            _log.warning("MQTT: TLS without verifying the broker %s (mqtt.tls.verify)", self.broker)
        self._subscription = self._bus.subscribe(
            "mqtt", self._handle, (CameraEventReceived, CameraStateChanged), QUEUE_PER_CAMERA
        )
        self._since = datetime.now(UTC)
        self._task = asyncio.create_task(self._run(), name="mqtt")

    async def stop(self) -> None:
        """Publish `offline`, disconnect cleanly, stop following the bus (bounded in time)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            # Not cancelled at once: an attempt under way ends (connected: with its goodbye),
            # and no half-made connection is left behind in aiomqtt's connect thread.
            done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            if not done:
                _log.warning("MQTT: no clean disconnect within %.1f s; dropped", STOP_TIMEOUT_S)
                task.cancel()
                await asyncio.wait({task}, timeout=0.5)
        if self._subscription is not None:
            await self._subscription.close()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.connected = False

    def status(self) -> MqttStatus:
        """A snapshot of the connection's health."""
        return MqttStatus(
            self.connected, self.broker, self._since, self._last_error, self.published,
            self.dropped_events, self._outbox.dropped, self._outbox.bytes,
        )  # fmt: skip

    # -- bus side: never waits for the broker ----------------------------------------------
    async def _handle(self, message: BusEvent) -> None:
        names = self._cameras()
        if isinstance(message, CameraStateChanged):
            camera_id = message.camera_id
            name = names.get(camera_id)
            first = name is not None and camera_id not in self._state.cameras
            out = self._state.on_state(message, name)
            if first and name is not None:
                out += self._state.learn(camera_id, name, await self._known_kinds(camera_id))
            self._send(out)
        elif isinstance(message, CameraEventReceived):
            self._send(self._state.on_event(message, names.get(message.camera_id)))

    async def _known_kinds(self, camera_id: str) -> set[EventKind]:
        """The entity kinds a camera reported before (its entities exist in Home Assistant)."""
        if self._history is None:
            return set()
        kinds = set()
        try:
            for kind in ENTITY_KINDS:
                if await self._history.recent([camera_id], 1, kinds={kind.value}):
                    kinds.add(kind)
        except StorageError as exc:
            _log.debug("MQTT: cannot read %s's event kinds: %s", camera_id, exc)
        return kinds

    def _send(self, messages: list[Outgoing]) -> None:
        if not messages:
            return
        if not self.connected:
            lost = sum(m.momentary for m in messages)
            if lost:
                self._drop_while_down(lost)
            return
        if not self._outbox.put_all(messages) and not self._overflow_logged:
            self._overflow_logged = True
            _log.warning(
                "MQTT broker %s is too slow: queued messages dropped; states are republished "
                "once it catches up",
                self.broker,
            )

    def _drop_while_down(self, lost: int) -> None:
        first = not self._dropping_logged
        self.dropped_events += lost
        if first:
            self._dropping_logged = True
            _log.warning(
                "MQTT broker %s unreachable: doorbell rings are not sent to it until it is "
                "back (states are republished then)",
                self.broker,
            )

    def _schedule_off(self, delay: float, camera_id: str, key: str, source: str | None) -> None:
        slot = (camera_id, key, source)
        old = self._timers.pop(slot, None)
        if old is not None:
            old.cancel()
        self._timers[slot] = asyncio.get_running_loop().call_later(delay, self._release, slot)

    def _release(self, slot: tuple[str, str, str | None]) -> None:
        self._timers.pop(slot, None)
        self._send(self._state.release(*slot))

    # -- broker side -----------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._connection()
            except (aiomqtt.MqttError, OSError) as exc:
                self._lost(describe(exc))
            except Exception as exc:  # a bug here must not end MQTT for the gateway's lifetime
                _log.exception("MQTT connection failed unexpectedly")
                self._lost(describe(exc))
            else:
                return  # stopped cleanly
            delay = self._backoff.next()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()

    def _client(self, context: ssl.SSLContext | None) -> aiomqtt.Client:
        settings = self.settings
        return aiomqtt.Client(
            settings.host,
            settings.effective_port,
            username=settings.username,
            password=self._password,
            identifier=settings.client_id or self.topics.node,
            will=aiomqtt.Will(self.topics.status, OFFLINE, qos=1, retain=True),
            keepalive=settings.keepalive_s,
            timeout=OPERATION_TIMEOUT_S,
            tls_context=context,
            # paho checks the host name itself unless told not to (the context does it).
            tls_insecure=None if context is None else not settings.tls.verify,
            logger=_client_log,
            max_queued_incoming_messages=64,
        )

    async def _connection(self) -> None:
        """One connection: publish everything, then follow the bus until lost or stopped."""
        tls = self.settings.tls
        context = await asyncio.to_thread(tls_context, tls) if tls.enabled else None
        client = self._client(context)
        async with client:
            self._connected_now()
            await client.subscribe(self.topics.ha_status, qos=1)
            sender = asyncio.create_task(self._sender(client), name="mqtt:send")
            listener = asyncio.create_task(self._listener(client), name="mqtt:listen")
            stopping = asyncio.create_task(self._stopping.wait(), name="mqtt:stop")
            try:
                done, _ = await asyncio.wait(
                    {sender, listener, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for task in (sender, listener, stopping):
                    task.cancel()
                await asyncio.gather(sender, listener, stopping, return_exceptions=True)
            for task in (sender, listener):
                if task in done and (exc := task.exception()) is not None:
                    raise exc
            if not self._stopping.is_set():
                raise aiomqtt.MqttError("the connection ended")  # so it is made again
            # Stopping: the goodbye first — a clean disconnect sends no will, so on a slow stop
            # cut short by the shutdown budget it must already be out — then what is queued
            # (the cameras' last states), for as long as the budget allows.
            await client.publish(
                self.topics.status, OFFLINE, qos=1, retain=True, timeout=STOP_FLUSH_S
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_FLUSH_S):
                    while len(self._outbox):
                        await self._publish(client, await self._outbox.get())
            self.connected = False

    def _connected_now(self) -> None:
        down_for = None if self._down_since is None else time.monotonic() - self._down_since
        if down_for is None:
            _log.info("MQTT connected to %s", self.broker)
        else:
            _log.info("MQTT connected to %s after %.0f s without", self.broker, down_for)
        self._down_since = None
        self._last_error = None
        self._dropping_logged = False
        self._overflow_logged = False
        self._resync_failed = False
        self._since = datetime.now(UTC)
        self._backoff.reset()
        self._outbox.clear()
        self._outbox.put(Outgoing(self.topics.status, ONLINE.encode(), retain=True))
        self._outbox.put_all(self._state.everything())
        self.connected = True  # from here on the bus handler queues what changes

    def _lost(self, reason: str) -> None:
        was_up = self.connected
        self.connected = False
        if was_up or self._down_since is None:
            self._down_since = time.monotonic()
            self._since = datetime.now(UTC)
        if reason != self._last_error:
            # Once per outage and per distinct reason: a broker down all day is one line.
            _log.warning("MQTT broker %s: %s; retrying", self.broker, reason)
        else:
            _log.debug("MQTT broker %s still failing: %s", self.broker, reason)
        self._last_error = reason

    async def _publish(self, client: aiomqtt.Client, message: Outgoing) -> None:
        await client.publish(message.topic, message.payload, qos=1, retain=message.retain)
        self.published += 1

    async def _sender(self, client: aiomqtt.Client) -> None:
        outbox = self._outbox
        while True:
            await self._publish(client, await outbox.get())
            if not len(outbox) and outbox.overflowed and not self._resync_failed:
                # Caught up after dropping: the retained picture again, so states are right.
                outbox.overflowed = False
                self._overflow_logged = False
                if not outbox.put_all(self._state.everything()):
                    self._resync_failed = True
                    _log.error("MQTT: the retained picture does not fit the outbox; not resent")

    async def _listener(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if message.topic.matches(self.topics.ha_status) and message.payload in (
                b"online",
                "online",
            ):
                # Home Assistant (re)started: it wants discovery and states again.
                await asyncio.sleep(random.uniform(0, BIRTH_JITTER_S))  # noqa: S311
                if self.connected:
                    self._outbox.put_all(self._state.everything())
