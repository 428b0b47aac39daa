"""Checks a change must pass before it is saved, for what would otherwise fail only at the next
start: a certificate that does not load, an address the callback listener cannot bind. A gateway
that cannot start cannot be fixed from its own UI."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from doorstep.gateway.config.fields import Section
from doorstep.gateway.config.models import ServerConfig, WebhookConfig
from doorstep.gateway.keys import tls

CHECK_TIMEOUT_S = 5.0


def _tls_problem(cert: Path, key: Path) -> str | None:
    """Why the certificate and key cannot serve HTTPS, or None; blocking."""
    try:
        tls.server_context(cert, key)
    except FileNotFoundError as exc:
        return f"no such file: {exc.filename}"
    except PermissionError as exc:
        return f"the gateway may not read {exc.filename}"
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        return f"the certificate and key cannot be used ({reason})"
    return None


def _bind_problem(host: str, port: int) -> str | None:
    """Why nothing can listen on host:port, or None; blocking (may resolve the name)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        return f"{host} cannot be resolved ({exc})"
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        return f"cannot listen on {host}:{port} ({exc.strerror or exc})"
    return None


async def problems(new: Section | None, running: Section | None) -> list[tuple[str, str]]:
    """What would keep the gateway from starting with `new` (`running`: what it runs now), as
    (field, reason) pairs."""
    if isinstance(new, ServerConfig) and new.tls.cert is not None and new.tls.key is not None:
        found = await _in_thread(_tls_problem, new.tls.cert, new.tls.key)
        return [("tls", found)] if found else []
    if isinstance(new, WebhookConfig) and new.enabled:
        now = running if isinstance(running, WebhookConfig) else None
        if now is not None and now.enabled and new.port != 0 and new.port == now.port:
            return []  # the running listener holds that port: it is free again at restart
        found = await _in_thread(_bind_problem, new.host, new.port)
        return [("host", found)] if found else []
    return []


async def _in_thread(
    check: Callable[[Any, Any], str | None], first: Any, second: Any
) -> str | None:
    """Run a blocking check off the event loop, bounded in time."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return await asyncio.to_thread(check, first, second)
    except TimeoutError:
        return f"the check did not finish within {CHECK_TIMEOUT_S:.0f} s"
