"""The `doorstep` command: run the gateway, run the demo, check a config file."""

# Only the parser lives here: each command imports what it needs when it runs, so
# `doorstep --version` and `doorstep simctl` do not pay for aiortc, aiohttp or pydantic.

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path

from doorstep.gateway import __version__

SIMULATOR_COMMANDS = {
    "simulate": "run simulated ONVIF cameras and doorbells",
    "simctl": "drive the simulator: press, motion, reboot, …",
}
"""Parsed by the simulator's own argument definitions (loaded only when one of them runs)."""

_HANDLERS = {
    "run": ("run", "run_command"),
    "demo": ("run", "demo"),
    "check-config": ("run", "check_config"),
    "discover": ("run", "discover"),
    "user": ("admin", "user_command"),
    "audit": ("audit_commands", "audit_command"),
    "evidence": ("evidence_commands", "evidence_command"),
}
"""Command → (module of doorstep.gateway.cli, function taking the parsed arguments)."""


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
    demo.add_argument(
        "--tls-cert", type=Path, help="serve HTTPS with this PEM certificate (phones need it)"
    )
    demo.add_argument("--tls-key", type=Path, help="the private key of --tls-cert (PEM)")

    check = commands.add_parser(
        "check-config", help="validate a config file and list every problem"
    )
    check.add_argument("file", type=Path)

    discover = commands.add_parser("discover", help="probe for cameras and list them")
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
    _add_offline(user_add)
    set_password = user_commands.add_parser(
        "set-password",
        help="give an account a new password and sign it out everywhere (a locked-out owner's "
        "way back in; password from $DOORSTEP_PASSWORD or a prompt)",
    )
    set_password.add_argument("username")
    _add_offline(set_password)
    reset_2fa = user_commands.add_parser(
        "reset-2fa",
        help="remove an account's second factor and recovery codes and sign it out everywhere "
        "(owners and agencies set up a new one at the next sign-in)",
    )
    reset_2fa.add_argument("username")
    _add_offline(reset_2fa)

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_commands.add_parser(
        "verify",
        help="check the audit log: its hash chain, its signed checkpoints and any you saved",
    )
    audit_verify.add_argument(
        "--checkpoint", type=Path, action="append", default=[],
        help="a checkpoint you downloaded earlier and kept off the box (repeatable)",
    )  # fmt: skip
    audit_verify.add_argument(
        "--key", help="the signing key to hold checkpoints to: its fingerprint (SHA256:…) or the "
        "key itself (base64, vkey or PEM); default: the data directory's",
    )  # fmt: skip
    audit_checkpoint = audit_commands.add_parser(
        "checkpoint", help="sign a checkpoint of the log now and print it"
    )
    audit_proof = audit_commands.add_parser(
        "proof", help="print the inclusion proof of one row (JSON) against a signed checkpoint"
    )
    audit_proof.add_argument("seq", type=int)
    audit_key = audit_commands.add_parser("key", help="print the gateway's public signing key")
    for command in (audit_verify, audit_checkpoint, audit_proof, audit_key):
        _add_offline(command)

    evidence = commands.add_parser("evidence", help="evidence packages")
    evidence_commands = evidence.add_subparsers(dest="evidence_command", required=True)
    evidence_verify = evidence_commands.add_parser(
        "verify", help="check an evidence package offline: every file's hash, the signature, "
        "the derivations, the consent receipt and the audit entry of its export",
    )  # fmt: skip
    evidence_verify.add_argument("package", type=Path)
    evidence_verify.add_argument(
        "--key", help="the gateway key to hold the package to: its fingerprint (SHA256:…, as "
        "the owner shows it) or the key itself; default: the key the package names (weaker)",
    )  # fmt: skip

    for name, summary in SIMULATOR_COMMANDS.items():  # listed here, parsed by the simulator
        listed = commands.add_parser(name, help=summary, add_help=False)
        listed.add_argument("arguments", nargs=argparse.REMAINDER)
    return parser


def _add_overrides(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", help="listen address (overrides the config)")
    command.add_argument("--port", type=int, help="listen port (overrides the config)")
    command.add_argument("--data-dir", type=Path, help="data directory (overrides the config)")


def _add_offline(command: argparse.ArgumentParser) -> None:
    command.add_argument("-c", "--config", type=Path, help="read the data directory from here")
    command.add_argument("--data-dir", type=Path, help="data directory (overrides the config)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `doorstep` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in SIMULATOR_COMMANDS:
        commands = import_module("doorstep.gateway.cli.simulator_commands")
        return int(commands.main(arguments[0], arguments[1:]))
    args = _parser().parse_args(arguments)
    module, function = _HANDLERS[args.command]
    handler: Callable[[argparse.Namespace], int] = getattr(
        import_module(f"doorstep.gateway.cli.{module}"), function
    )
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
