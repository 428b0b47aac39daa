"""The secrets the gateway holds at run time, registered where they appear, so every log line
can be scrubbed of them verbatim (the logging setup in the CLI reads them)."""

from __future__ import annotations

import threading

MIN_LENGTH = 4
"""Shorter values would redact ordinary words (and give nothing away on their own)."""

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()


def register_secret(value: str | None) -> None:
    """Redact `value` from every log line from now on (None, empty and short values ignored)."""
    global _secrets  # noqa: PLW0603  # one registry per process, replaced whole on change
    if value is None or len(value) < MIN_LENGTH or value in _secrets:
        return
    with _lock:
        _secrets = _secrets | {value}


def registered_secrets() -> frozenset[str]:
    """Every secret registered so far (a snapshot: safe to iterate while others register)."""
    return _secrets
