"""Composition root: builds every component from the config and starts/stops them in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import signal
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiortc import RTCIceServer

from doorstep.gateway import __version__
from doorstep.gateway.app_records import checkpoints_step, sharing_step
from doorstep.gateway.auth.wiring import open_accounts
from doorstep.gateway.automation.mqtt import MqttPublisher
from doorstep.gateway.automation.outgoing_webhooks import OutgoingWebhooks
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.cameras.adoption import CameraService
from doorstep.gateway.cameras.facade import Cameras
from doorstep.gateway.config.allocator import cap_malloc_arenas
from doorstep.gateway.config.models import Config, LiveConfig
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.devices.registry import DriverRegistry, load_drivers
from doorstep.gateway.devices.webhook_listener import WebhookServer
from doorstep.gateway.history.camera_history import EventHistory
from doorstep.gateway.history.retention import EventRetention
from doorstep.gateway.keys import tls
from doorstep.gateway.live import LiveService
from doorstep.gateway.live.viewers import LiveAudit
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.notify.service import PushService
from doorstep.gateway.recording.wiring import open_recording, recording_defaults
from doorstep.gateway.ringing import RingTracker
from doorstep.gateway.settings import RuntimeSettings
from doorstep.gateway.storage import CameraRecord
from doorstep.gateway.web import create_web_app
from doorstep.gateway.web.denials import DenialAuditor
from doorstep.gateway.web.hosts import ALLOWED_HOSTS, known_names
from doorstep.gateway.web.keys import (
    ACCOUNTS,
    AUDIT,
    BUS,
    CAMERAS,
    CHECKPOINTS,
    CLIP_RETENTION,
    CONFIG,
    DATABASE,
    DEVICES,
    DRIVERS,
    LIVE,
    MQTT,
    OUTGOING_WEBHOOKS,
    PUSH,
    RECORDING,
    REFUSALS,
    RINGS,
    SECRET_BOX,
    SETTINGS,
    STORAGE,
    STREAMS,
)
from doorstep.gateway.web.policy import AUTHENTICATOR, ON_DENIED, DenialHook
from doorstep.gateway.web.session import session_authenticator

_log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_S = 4.0
"""Ctrl-C must finish within 5 s; the web server's own grace period comes out of this."""


async def _storage(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    core = await open_accounts(config.storage.data_dir, config.audit)  # the admin commands' too
    storage = core.storage
    app[STORAGE], app[DATABASE], app[SECRET_BOX] = storage, storage.database, core.box
    app[AUDIT], app[REFUSALS], app[ACCOUNTS] = core.audit, core.refusals, core.accounts
    app[CHECKPOINTS] = core.checkpoints
    now = datetime.now(UTC)
    for camera in config.cameras:
        await storage.cameras.upsert(
            CameraRecord(camera.id, camera.name, camera.driver, camera.host, camera.port, now)
        )
    yield
    await storage.close()


async def _settings(app: web.Application) -> AsyncIterator[None]:
    # The owner's settings over the file's: every later step starts with them (CONFIG).
    settings = app[SETTINGS]
    await settings.load(app[STORAGE].settings, app[SECRET_BOX])
    app[CONFIG] = settings.config
    app[ALLOWED_HOSTS] = known_names(settings.config.server.hostnames)
    yield


async def _retention(app: web.Application) -> AsyncIterator[None]:
    retention = EventRetention(app[STORAGE].events, app[CONFIG].retention.event_days)
    app[SETTINGS].listen("retention", lambda value: retention.set_days(value.event_days))
    retention.start()
    yield
    await retention.stop()


async def _accounts(app: web.Application) -> AsyncIterator[None]:
    refusals = app[REFUSALS]
    await app[ACCOUNTS].prepare_setup()
    on_denied: DenialHook = DenialAuditor(refusals)
    app[ON_DENIED] = on_denied
    refusals.start()
    yield
    await refusals.close()  # what was counted since the last window is written, not lost


async def _bus(app: web.Application) -> AsyncIterator[None]:
    app[BUS] = EventBus(app[CONFIG].bus.queue_size)
    storage = app[STORAGE]
    history = EventHistory(app[BUS], storage.cameras, storage.events)
    history.start()
    yield
    await history.stop()
    await app[BUS].close()


def _retry_stream(hub: StreamHub, camera_id: str) -> None:
    """A camera that is back online: its streams waiting to retry try at once."""
    for name in (f"{camera_id}/main", f"{camera_id}/sub"):
        stream = hub.get(name)
        if stream is not None:
            stream.retry_now()


def _ice_servers(config: LiveConfig) -> list[RTCIceServer]:
    """The configured STUN/TURN servers, as aiortc takes them."""
    return [
        RTCIceServer(
            urls=list(server.urls),
            username=server.username,
            credential=server.credential.get_secret_value() if server.credential else None,
        )
        for server in config.ice_servers
    ]


def _live_audit(app: web.Application) -> LiveAudit:
    """Where the live-view service writes its calls' audit entries."""

    async def record(user: str, action: str, target: str, ip: str, detail: dict[str, Any]) -> None:
        await app[AUDIT].append(user, action, target, ip=ip, detail=detail)

    return record


async def _outgoing_webhooks(app: web.Application) -> AsyncIterator[None]:
    # The owner's outgoing webhook rules (not the cameras' callbacks below): fed by the bus.
    storage = app[STORAGE]
    hooks = OutgoingWebhooks(
        app[BUS], storage.webhook_rules, storage.cameras, app[SECRET_BOX],
        gateway=f"Doorstep {__version__}",
    )  # fmt: skip
    await hooks.start()
    app[OUTGOING_WEBHOOKS] = hooks
    yield
    await hooks.stop()


async def _mqtt(app: web.Application) -> AsyncIterator[None]:
    # Up before the cameras, so it sees each one's first state. Nothing is sent unless configured.
    settings = app[CONFIG].mqtt
    if settings is None:
        yield
        return

    def names() -> dict[str, str]:
        manager = app.get(DEVICES)
        return {} if manager is None else {c: s.name for c, s in manager.supervisors.items()}

    publisher = MqttPublisher(settings, app[BUS], names, __version__, app[STORAGE].events)
    await publisher.start()
    app[MQTT] = publisher
    yield
    await publisher.stop()


async def _push(app: web.Application) -> AsyncIterator[None]:
    # Web Push to phones: nothing is sent until someone turns notifications on for a device.
    config = app[CONFIG]
    async with aiohttp.ClientSession(trust_env=False) as http:
        push = PushService(config.push, config.storage.data_dir, app[STORAGE], app[BUS], http)
        await push.start()
        app[PUSH] = push
        yield
        await push.stop()


_WEBHOOKS = web.AppKey("webhooks", WebhookServer)


async def _webhooks(app: web.Application) -> AsyncIterator[None]:
    # A step of its own, so a later step that fails to start still closes the listener.
    settings = app[CONFIG].webhooks
    if not settings.enabled:
        yield
        return
    hooks = WebhookServer(settings.host, settings.port, settings.advertise)
    await hooks.start()
    app[_WEBHOOKS] = hooks
    yield
    await hooks.stop()


async def _devices(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    box = app[SECRET_BOX]
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30, connect=10), trust_env=False
    ) as http:
        service = CameraService(
            app[STORAGE].cameras,
            box,
            app[DRIVERS],
            http,
            config.storage.data_dir,
            declared=config.cameras,
        )
        declared = {c.id for c in config.cameras}
        cameras = await service.supervised()  # the file's and the adopted, owner's settings on
        hooks = app.get(_WEBHOOKS)
        manager = DeviceManager(
            cameras, app[DRIVERS], app[BUS], http, config.storage.data_dir, config.supervisor,
            hooks, owner_disabled=service.settings.owner_disabled,
        )  # fmt: skip
        app[DEVICES] = manager
        hub = StreamHub()
        app[STREAMS] = hub
        rings = RingTracker(app[BUS], config.rings.ring_s, exists=manager.supervisors.__contains__)
        rings.start()  # before the cameras: it sees their first press
        app[RINGS] = rings
        live = LiveService(
            hub, _ice_servers(config.live), _live_audit(app), config.live.host_addresses,
            rings=rings,
        )  # fmt: skip
        app[LIVE] = live

        def new_ice_servers(value: LiveConfig) -> None:
            live.ice_servers = _ice_servers(value)  # new calls take them; others keep theirs

        app[SETTINGS].listen("live", new_ice_servers)
        app[SETTINGS].listen("rings", lambda value: rings.set_ring_s(value.ring_s))
        drivers = app[DRIVERS]
        app[CAMERAS] = Cameras(
            manager, service, hub, declared=declared, drivers=drivers.drivers.values
        )
        facade = app[CAMERAS]
        recording, retention = await open_recording(
            app[SETTINGS], manager, app[STORAGE], app[AUDIT], app[BUS],
            lambda camera_id, audio: hub.stream(
                f"{camera_id}/main", facade.stream_target(camera_id)
            ).consume(audio, bulk=True),
            lambda camera_id: _retry_stream(hub, camera_id),
        )  # fmt: skip
        app[RECORDING], app[CLIP_RETENTION] = recording, retention
        facade.recording = recording
        facade.recording_defaults = lambda: recording_defaults(app[SETTINGS].config)
        app[SETTINGS].listen("recording", lambda _: recording.reapply())
        manager.start()
        retention.start()
        recording.start(list(manager.supervisors))
        yield
        # Open clips are closed at what arrived before the streams go.
        await recording.stop()
        await retention.stop()
        # Calls and streams end side by side (each of them concurrently too): a camera slow to
        # answer TEARDOWN holds up only itself, and shutdown fits SHUTDOWN_BUDGET_S.
        await asyncio.gather(app[LIVE].close(), hub.close())
        await rings.stop()
        await manager.stop()


def build_app(config: Config, drivers: DriverRegistry | None = None) -> web.Application:
    """The whole gateway as an aiohttp application (components start with the app).

    Blocking (it reads driver metadata and the UI directory): call it before the event loop
    runs, or in a thread.
    """
    cap_malloc_arenas()  # before the gateway starts its threads (see allocator.py)
    app = create_web_app()
    app[CONFIG] = config
    app[SETTINGS] = RuntimeSettings(config)
    app[DRIVERS] = load_drivers() if drivers is None else drivers
    # Storage first up and last down; cameras last up and first down.
    app[AUTHENTICATOR] = session_authenticator
    app[ALLOWED_HOSTS] = known_names(config.server.hostnames)
    app.cleanup_ctx.extend(
        [_storage, _settings, _retention, _accounts, checkpoints_step, _bus, _outgoing_webhooks,
         _mqtt, _push, _webhooks, sharing_step, _devices]
    )  # fmt: skip
    return app


def _tls(config: Config) -> tuple[ssl.SSLContext | None, str | None]:
    """The server TLS context (and a self-signed certificate's fingerprint); blocking."""
    settings = config.server.tls
    if not settings.enabled:
        return None, None
    if settings.cert is not None and settings.key is not None:
        return tls.server_context(settings.cert, settings.key), None
    cert, key = tls.make_self_signed(config.storage.data_dir / "tls", config.server.host)
    return tls.server_context(cert, key), tls.fingerprint(cert)


IDLE_TIMEOUT_S = 15.0
"""A connection that sends no complete request head for this long is closed (aiohttp's
keep-alive timer runs from the connection's start, so this also ends slow-header attacks)."""


def make_runner(app: web.Application, idle_timeout_s: float = IDLE_TIMEOUT_S) -> web.AppRunner:
    """The web server runner with the gateway's connection limits."""
    return web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=1.0,
        keepalive_timeout=idle_timeout_s, max_line_size=8190, max_field_size=8190,
    )  # fmt: skip


def doorstep_command() -> str:
    """How to call this `doorstep` from the shell it was started in (`.venv/bin/doorstep` for
    the demo: a fresh shell has no `doorstep` on its PATH)."""
    argv0 = Path(sys.argv[0])
    if argv0.name != "doorstep":
        return "doorstep"
    with contextlib.suppress(ValueError):
        return shlex.quote(str(argv0.resolve().relative_to(Path.cwd())))
    return shlex.quote(str(argv0))


async def serve(
    app: web.Application, config: Config, on_ready: Callable[[str], None] | None = None
) -> None:
    """Run a built gateway until SIGINT/SIGTERM, then stop every component in reverse order."""
    runner = make_runner(app)
    try:
        await runner.setup()
    except BaseException:  # a step failed to start: stop, in reverse, the ones that did
        await runner.cleanup()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        context, fingerprint = await asyncio.to_thread(_tls, app[CONFIG])  # the owner's too
        site = web.TCPSite(runner, config.server.host, config.server.port, ssl_context=context)
        await site.start()
        host = f"[{config.server.host}]" if ":" in config.server.host else config.server.host
        url = f"{'https' if context else 'http'}://{host}:{config.server.port}/"
        if fingerprint:
            print(f"HTTPS certificate SHA-256 fingerprint: {fingerprint}", flush=True)
        _log.info("Doorstep %s listening on %s", __version__, url)
        if on_ready is not None:
            on_ready(url)
        token = app[ACCOUNTS].setup_token
        if token is not None:
            command = await asyncio.to_thread(doorstep_command)
            # On the console only (not in the log): whoever reads it owns the box.
            print(
                f"First run: create the owner account at {url}#/setup with the setup token {token}"
                f"  (or run: {command} user add --data-dir "
                f"{shlex.quote(str(config.storage.data_dir))} --role owner NAME)",
                flush=True,
            )
        await stop.wait()
        _log.info("shutting down")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runner.cleanup(), SHUTDOWN_BUDGET_S)
    _log.info("stopped")
