"""The `doorstep` command: run the gateway, run the demo, check a config file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from doorstep.gateway import __version__
from doorstep.gateway.app import build_app, serve
from doorstep.gateway.cli.admin import add_user, verify_audit
from doorstep.gateway.cli.demo import run_demo
from doorstep.gateway.cli.logs import setup_logging
from doorstep.gateway.config.models import (
    Config,
    ConfigError,
    DiscoveryConfig,
    LoggingConfig,
    ServerConfig,
    StorageConfig,
    load_config,
)
from doorstep.gateway.discovery import discover as discover_devices
from doorstep.gateway.storage import StorageError
from doorstep.simulator.command import (
    add_simctl_arguments,
    add_simulate_arguments,
    run_simctl,
    run_simulate,
)

EXIT_CONFIG = 2
EXIT_RUNTIME = 1
DEMO_DATA_DIR = Path(".demo")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doorstep", description=__doc__)
    parser.add_argument("--version", action="version", version=f"doorstep {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the gateway")
    run.add_argument(
        "-c", "--config", type=Path, help="YAML config file (default: built-in defaults)"
    )
    _add_overrides(run)

    demo = commands.add_parser(
        "demo", help="run the gateway with a simulated doorbell and camera, to try it out"
    )
    _add_overrides(demo)

    check = commands.add_parser(
        "check-config", help="validate a config file and list every problem"
    )
    check.add_argument("file", type=Path)

    discover = commands.add_parser("discover", help="probe for ONVIF cameras and list them")
    discover.add_argument("-c", "--config", type=Path, help="use the config's discovery settings")
    discover.add_argument(
        "--target", action="append", default=[], help="host or host:port to probe (repeatable)"
    )
    discover.add_argument(
        "--interface", action="append", default=[], help="send multicast from this address"
    )
    discover.add_argument("--seconds", type=float, help="how long to listen")
    discover.add_argument("--mdns", action="store_true", help="also browse mDNS on the interfaces")

    user = commands.add_parser("user", help="manage accounts from the console")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser(
        "add", help="create an account (password from $DOORSTEP_PASSWORD or a prompt)"
    )
    user_add.add_argument("username")
    user_add.add_argument(
        "--role", choices=["owner", "resident", "neighbour", "agency"], default="resident"
    )
    user_add.add_argument("-c", "--config", type=Path)
    user_add.add_argument("--data-dir", type=Path, help="data directory (overrides the config)")

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_commands.add_parser("verify", help="check the audit log's hash chain")
    audit_verify.add_argument("-c", "--config", type=Path)
    audit_verify.add_argument("--data-dir", type=Path, help="data directory (overrides the config)")

    simulate = commands.add_parser("simulate", help="run simulated ONVIF cameras and doorbells")
    add_simulate_arguments(simulate)
    simctl = commands.add_parser("simctl", help="drive the simulator: press, motion, reboot, …")
    add_simctl_arguments(simctl)
    return parser


def _add_overrides(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", help="listen address (overrides the config)")
    command.add_argument("--port", type=int, help="listen port (overrides the config)")
    command.add_argument("--data-dir", type=Path, help="data directory (overrides the config)")


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


def _check_config(path: Path) -> int:
    try:
        config = load_config(path)
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
    setup_logging(config.logging.level, config.logging.format, config.secrets())
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


def _demo(args: argparse.Namespace) -> int:
    defaults = ServerConfig()
    data_dir = (args.data_dir or DEMO_DATA_DIR).resolve()
    host = args.host or defaults.host
    port = args.port or defaults.port
    setup_logging("info", "text")
    try:
        asyncio.run(run_demo(data_dir, host, port))
    except StorageError as exc:
        logging.getLogger("doorstep.gateway").error("cannot open storage: %s", exc)
        return EXIT_RUNTIME
    except OSError as exc:
        logging.getLogger("doorstep.gateway").error("cannot start: %s", exc)
        return EXIT_RUNTIME
    return 0


def _run_command(args: argparse.Namespace) -> int:
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


def _discover(args: argparse.Namespace) -> int:
    try:
        settings = load_config(args.config).discovery
        settings = DiscoveryConfig.model_validate(
            {
                "targets": [*settings.targets, *args.target],
                "interfaces": [*settings.interfaces, *args.interface],
                "listen_s": args.seconds or settings.listen_s,
            }
        )
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
    mdns = settings.mdns or args.mdns
    found = asyncio.run(
        discover_devices(settings.targets, settings.interfaces, settings.listen_s, mdns)
    )
    print(f"{'ADDRESS':<22} {'NAME':<20} {'HARDWARE':<20} {'FOUND BY':<13} ENDPOINT")
    for device in found:
        address = f"{device.host}:{device.port}"
        print(
            f"{address:<22} {device.name or '-':<20.20} {device.hardware or '-':<20.20} "
            f"{device.found_by:<13} {device.endpoint or '-'}"
        )
    print(f"{len(found)} device(s) found")
    return 0


def _offline_config(args: argparse.Namespace) -> Config | None:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{exc.source}: {problem}", file=sys.stderr)
        return None
    if args.data_dir is not None:
        config = config.model_copy(update={"storage": StorageConfig(data_dir=args.data_dir)})
    return config


def _user(args: argparse.Namespace) -> int:
    config = _offline_config(args)
    return EXIT_CONFIG if config is None else add_user(config, args.username, args.role)


def _audit(args: argparse.Namespace) -> int:
    config = _offline_config(args)
    return EXIT_CONFIG if config is None else verify_audit(config)


def _simulate(args: argparse.Namespace) -> int:
    setup_logging("info", "text")
    return run_simulate(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `doorstep` console script."""
    args = _parser().parse_args(argv)
    commands = {
        "run": _run_command,
        "demo": _demo,
        "check-config": lambda a: _check_config(a.file),
        "discover": _discover,
        "simulate": _simulate,
        "user": _user,
        "audit": _audit,
        "simctl": run_simctl,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
