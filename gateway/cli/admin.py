"""Console administration: add a user, recover a locked-out account (a new password, no second
factor). Each works on the data directory, also while the gateway runs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

import yaml

from doorstep.gateway.auth import AuthError, Principal
from doorstep.gateway.auth.principal import ROLES_WITH_REQUIRED_TOTP as TOTP_ROLES
from doorstep.gateway.auth.wiring import open_accounts
from doorstep.gateway.config.models import (
    Config,
    ConfigError,
    StorageConfig,
    load_config,
    parse_config,
)
from doorstep.gateway.config.yaml_loader import StrictSafeLoader

PASSWORD_ENV = "DOORSTEP_PASSWORD"  # noqa: S105  # the name of a variable, not a password
EXIT_CONFIG = 2
ADMIN_SECTIONS = ("version", "storage")
"""What the admin commands read of a config file: they touch no camera, so a camera password
taken from an unset variable must not stop them."""


def admin_config(path: Path | None) -> Config:
    """The config file's storage settings (the rest left at defaults); `ConfigError` if bad."""
    if path is None:
        return Config()
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictSafeLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return load_config(path)  # raises the ConfigError that says why
    if not isinstance(raw, dict):
        return load_config(path)
    kept = {key: raw[key] for key in ADMIN_SECTIONS if key in raw}
    return parse_config(yaml.safe_dump(kept), str(path))


def offline_config(args: argparse.Namespace) -> Config | None:
    """The config an offline command runs on (`--data-dir` wins); None (said why) if bad."""
    try:
        config = admin_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{exc.source}: {problem}", file=sys.stderr)
        return None
    if args.data_dir is not None:
        config = config.model_copy(update={"storage": StorageConfig(data_dir=args.data_dir)})
    return config


CLI_ACTOR = Principal(0, "cli", "owner")
"""Who the recovery commands act as in the audit log (user id 0 is nobody's: no self-reset)."""


def user_command(args: argparse.Namespace) -> int:
    """`doorstep user add | set-password | reset-2fa`."""
    config = offline_config(args)
    if config is None:
        return EXIT_CONFIG
    if args.user_command == "set-password":
        return set_password(config, args.username)
    if args.user_command == "reset-2fa":
        return reset_second_factor(config, args.username)
    return add_user(config, args.username, args.role)


def _read_password(command: str, username: str) -> str | None:
    """The password from $DOORSTEP_PASSWORD, or typed twice at a prompt; None (said why) if
    neither."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            print(f"doorstep user {command}: set {PASSWORD_ENV} or run it in a terminal",
                  file=sys.stderr)  # fmt: skip
            return None
        password = getpass.getpass(f"Password for {username}: ")
        if getpass.getpass("Again: ") != password:
            print(f"doorstep user {command}: the passwords differ", file=sys.stderr)
            return None
    return password


def add_user(config: Config, username: str, role: str) -> int:
    """Create an account; the password comes from $DOORSTEP_PASSWORD or a prompt."""
    password = _read_password("add", username)
    if password is None:
        return 2

    async def create() -> int:
        core = await open_accounts(config.storage.data_dir)
        try:
            console = Principal(0, "console", "owner")
            user = await core.accounts.create_user(console, username, password, role, "console")
        except AuthError as exc:
            print(f"doorstep user add: {exc}", file=sys.stderr)
            return 1
        finally:
            await core.storage.close()
        print(f"created {user.role} {user.username!r} (id {user.id}) in {config.storage.data_dir}")
        return 0

    return asyncio.run(create())


def set_password(config: Config, username: str) -> int:
    """Give an account a new password (from $DOORSTEP_PASSWORD or a prompt) and end its
    sessions: how a locked-out owner gets back in. Audited as "cli"."""
    password = _read_password("set-password", username)
    if password is None:
        return 2

    async def reset() -> int:
        core = await open_accounts(config.storage.data_dir)
        try:
            user = await core.storage.users.by_username(username.strip())
            if user is None:
                print(f"doorstep user set-password: no account {username!r}", file=sys.stderr)
                return 1
            revoked = await core.accounts.resets.reset_password(
                CLI_ACTOR, user.id, password, "", must_change=False
            )
        except AuthError as exc:
            print(f"doorstep user set-password: {exc}", file=sys.stderr)
            return 1
        finally:
            await core.storage.close()
        print(f"new password set for {user.username!r}; {revoked} session(s) signed out")
        return 0

    return asyncio.run(reset())


def reset_second_factor(config: Config, username: str) -> int:
    """Remove an account's authenticator and recovery codes and end its sessions: it signs in
    with its password and (owner, agency) sets up a new second factor. Audited as "cli"."""

    async def reset() -> int:
        core = await open_accounts(config.storage.data_dir)
        try:
            user = await core.storage.users.by_username(username.strip())
            if user is None:
                print(f"doorstep user reset-2fa: no account {username!r}", file=sys.stderr)
                return 1
            revoked = await core.accounts.resets.reset_second_factor(CLI_ACTOR, user.id, "")
        except AuthError as exc:
            print(f"doorstep user reset-2fa: {exc}", file=sys.stderr)
            return 1
        finally:
            await core.storage.close()
        then = " (a new one is set up at the next sign-in)" if user.role in TOTP_ROLES else ""
        print(f"second factor removed for {user.username!r}{then}; "
              f"{revoked} session(s) signed out")  # fmt: skip
        return 0

    return asyncio.run(reset())
