"""What the stream hub opens upstream: a camera stream's target, the clock the hub waits on, and
how a connection that could not be opened reads to the user."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from doorstep.protocols.rtsp_client import RtspError

RTSP_TIMEOUT_S = 10.0


def _jitter() -> float:
    return random.uniform(0.5, 1.0)  # noqa: S311  # spreads retries, not a secret


@dataclass(frozen=True, slots=True)
class HubClock:
    """Time as the hub sees it (retry waits, linger, health and silence): tests pass their own
    instead of racing the real one."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = _jitter
    """The factor (0.5 to 1.0) each retry wait is multiplied by."""


REAL_CLOCK = HubClock()


def unreachable_reason(url: str, exc: BaseException) -> str:
    """Why no connection to the camera's stream could be opened, for the page and the log."""
    where = urlsplit(url).netloc.rpartition("@")[2]  # never credentials, even if some slipped in
    cause = exc.__context__ if isinstance(exc, RtspError) else exc  # the client's own OSError
    if isinstance(cause, ConnectionRefusedError):
        why = "connection refused (nothing listens on that port)"
    elif isinstance(cause, TimeoutError):
        why = f"no answer within {RTSP_TIMEOUT_S:.0f} s"
    elif isinstance(cause, OSError) and cause.strerror:
        why = cause.strerror.lower()
    else:
        why = type(cause).__name__
    return f"camera stream unreachable at {where}: {why}"


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """What to open: an RTSP URL (no credentials in it) and the credentials."""

    url: str
    username: str | None
    password: str | None
    allow_basic: bool = False
    """Answer a Basic challenge over plain RTSP (the camera's `rtsp_allow_basic`)."""
