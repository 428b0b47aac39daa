"""Structured logging with credentials redacted from every line, whatever logged them."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from doorstep.gateway.keys.redaction import register_secret, registered_secrets

__all__ = [
    "REDACTED",
    "RedactingJsonFormatter",
    "RedactingTextFormatter",
    "redact",
    "register_secret",
    "setup_logging",
]

REDACTED = "***"

# user:password@ inside any URL (rtsp://, http://, …): the classic way camera passwords leak.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@]*(?:@[^/\s@]*)*@")
# key=value / key: value / "key": "value" for secret-looking keys.
_SECRET_FIELD = re.compile(
    r"""(?P<key>\b(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|session|cookie)\b["']?\s*[=:]\s*["']?)"""
    r"""(?P<value>[^\s"'&,;}]+)""",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(
    r"(?P<key>\b(?:proxy-)?authorization\s*[:=]\s*)(?P<value>(?:basic|digest|bearer)?\s*[^\r\n]+)",
    re.IGNORECASE,
)
_WSSE_SECRET = re.compile(
    r"(?P<open><(?:\w+:)?(?:Password|Nonce)\b[^>]*>)[^<]*(?P<close></(?:\w+:)?(?:Password|Nonce)>)"
)
_MIN_LITERAL_SECRET = 4  # shorter literals would redact ordinary words

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove credentials from `text`: URL user info, secret fields, auth headers, known secrets."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_LITERAL_SECRET:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
    text = _WSSE_SECRET.sub(lambda m: f"{m.group('open')}{REDACTED}{m.group('close')}", text)
    return _SECRET_FIELD.sub(lambda m: f"{m.group('key')}{REDACTED}", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")
    }


def _timestamp(record: logging.LogRecord) -> str:
    return (
        datetime.fromtimestamp(record.created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class RedactingTextFormatter(logging.Formatter):
    """One human-readable line per record: time, level, logger, message, key=value extras."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def _all_secrets(self) -> tuple[str, ...]:
        return (*self.secrets, *registered_secrets())

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return redact(line, self._all_secrets())


class RedactingJsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; values redacted before encoding."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        secrets = (*self.secrets, *registered_secrets())
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage(), secrets),
        }
        for key, value in _extras(record).items():
            plain = value if isinstance(value, int | float | bool) or value is None else str(value)
            entry[key] = redact(plain, secrets) if isinstance(plain, str) else plain
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info), secrets)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str = "info",
    fmt: str = "text",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Route all logging (and warnings) through one redacting handler on stderr; returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter: logging.Formatter = (
        RedactingJsonFormatter(secrets) if fmt == "json" else RedactingTextFormatter(secrets)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    quiet_noisy_loggers()
    logging.captureWarnings(True)
    return handler


QUIET_LOGGERS = {
    # aiohttp's access log repeats every request (and a share link's token) at INFO.
    "aiohttp.access": logging.WARNING,
    # aioice logs every ICE candidate-pair check of every call at INFO (a dozen lines a call).
    "aioice": logging.WARNING,
    # aiosqlite's DEBUG lines quote every statement's parameters: hashes, sealed secrets, the
    # home's coordinates. Never logged, whatever the level asked for.
    "aiosqlite": logging.INFO,
}


def quiet_noisy_loggers() -> None:
    """Hold the libraries that log too much (or data) at their quieter levels."""
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
