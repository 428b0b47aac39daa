"""`doorstep run`, `demo`, `check-config` and `discover`: the commands that need the config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from doorstep.gateway.cli.logs import register_secret, setup_logging
from doorstep.gateway.config.models import (
    Config,
    ConfigError,
    DiscoveryConfig,
    LoggingConfig,
    ServerConfig,
    StorageConfig,
    TlsConfig,
    load_config,
)
from doorstep.gateway.storage import StorageError

EXIT_CONFIG = 2
EXIT_RUNTIME = 1
DEMO_DATA_DIR = Path(".demo")


def config_secrets(config: Config) -> Iterator[str]:
    """Every secret in the config: camera passwords and TURN credentials."""
    yield from config.secrets()
    for server in config.live.ice_servers:
        if server.credential is not None:
            yield server.credential.get_secret_value()


def setup_run_logging(config: Config, stream: IO[str] | None = None) -> logging.Handler:
    """The gateway's logging, with every secret of the config registered for redaction."""
    for secret in config_secrets(config):
        register_secret(secret)
    return setup_logging(config.logging.level, config.logging.format, stream=stream)


def _with_overrides(config: Config, args: argparse.Namespace) -> Config:
    """Apply command-line overrides, validated like the file's values."""
    server = config.server.model_dump()
    storage = config.storage.model_dump()
    if args.host is not None:
        server["host"] = args.host
    if args.port is not None:
        server["port"] = args.port
    if args.data_dir is not None:
        storage["data_dir"] = args.data_dir
    return config.model_copy(
        update={
            "server": ServerConfig.model_validate(server),
            "storage": StorageConfig.model_validate(storage),
        }
    )


def check_config(args: argparse.Namespace) -> int:
    """Validate a config file and list every problem."""
    path: Path = args.file
    try:
        from doorstep.gateway.devices.registry import check_drivers  # noqa: PLC0415  # drivers load

        config = check_drivers(load_config(path), str(path))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        return EXIT_CONFIG
    print(f"{path}: ok ({len(config.cameras)} camera(s))")
    return 0


def _announce(url: str) -> None:
    print(f"Doorstep is running: open {url}", flush=True)


def _run(config: Config) -> int:
    from doorstep.gateway.app import build_app, serve  # noqa: PLC0415  # the heavy part

    setup_run_logging(config)
    log = logging.getLogger("doorstep.gateway")
    try:
        app = build_app(config)
        asyncio.run(serve(app, config, on_ready=_announce))
    except StorageError as exc:
        log.error("cannot open storage: %s", exc)
        return EXIT_RUNTIME
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_RUNTIME
    return 0


def run_command(args: argparse.Namespace) -> int:
    """`doorstep run`: the gateway until Ctrl-C."""
    try:
        config = _with_overrides(load_config(args.config), args)
    except ConfigError as exc:
        setup_logging(LoggingConfig().level)
        for problem in exc.problems:
            print(f"{exc.source}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:  # a bad --host/--port override
        print(f"doorstep: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return _run(config)


def demo(args: argparse.Namespace) -> int:
    """`doorstep demo`: the gateway against simulated devices on loopback."""
    from doorstep.gateway.cli.demo import run_demo  # noqa: PLC0415  # loads the simulator

    defaults = ServerConfig()
    data_dir = (args.data_dir or DEMO_DATA_DIR).resolve()
    host = args.host or defaults.host
    port = args.port or defaults.port
    if (args.tls_cert is None) != (args.tls_key is None):
        print("doorstep: --tls-cert and --tls-key go together", file=sys.stderr)
        return EXIT_CONFIG
    tls = None
    if args.tls_cert is not None:
        tls = TlsConfig(cert=args.tls_cert.resolve(), key=args.tls_key.resolve())
    setup_logging("info", "text")
    try:
        asyncio.run(run_demo(data_dir, host, port, tls))
    except StorageError as exc:
        logging.getLogger("doorstep.gateway").error("cannot open storage: %s", exc)
        return EXIT_RUNTIME
    except OSError as exc:
        logging.getLogger("doorstep.gateway").error("cannot start: %s", exc)
        return EXIT_RUNTIME
    return 0


def _discovery_settings(args: argparse.Namespace) -> DiscoveryConfig:
    """The config's discovery section with the command line's additions."""
    settings = load_config(args.config).discovery
    return DiscoveryConfig.model_validate(
        {
            "targets": [*settings.targets, *args.target],
            "interfaces": [*settings.interfaces, *args.interface],
            "listen_s": args.seconds or settings.listen_s,
            "mdns": settings.mdns or args.mdns,
        }
    )


def discover(args: argparse.Namespace) -> int:
    """`doorstep discover`: probe through every driver that can discover, and list the answers."""
    from doorstep.gateway.devices.registry import load_drivers  # noqa: PLC0415  # loads drivers
    from doorstep.gateway.discovery import discover as discover_devices  # noqa: PLC0415

    try:
        settings = _discovery_settings(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{exc.source}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:
        print(f"doorstep discover: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not settings.targets and not settings.interfaces:
        print(
            "doorstep discover: nothing to probe; give --target HOST[:PORT] or --interface ADDRESS "
            "(Doorstep sends nothing on the LAN unless told to)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    drivers = load_drivers().drivers.values()
    found = asyncio.run(
        discover_devices(
            settings.targets, settings.interfaces, settings.listen_s, settings.mdns,
            drivers=drivers,
        )
    )  # fmt: skip
    print(f"{'ADDRESS':<22} {'NAME':<20} {'HARDWARE':<20} {'FOUND BY':<13} ENDPOINT")
    for device in found:
        address = f"{device.host}:{device.port}"
        print(
            f"{address:<22} {device.name or '-':<20.20} {device.hardware or '-':<20.20} "
            f"{device.found_by:<13} {device.endpoint or '-'}"
        )
    print(f"{len(found)} device(s) found")
    return 0
