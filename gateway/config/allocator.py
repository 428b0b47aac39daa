"""The C allocator's settings for the gateway process: glibc's malloc arenas capped at two.

glibc gives each new thread that allocates its own malloc arena, up to eight per core, and an
arena keeps the memory its thread freed. The gateway runs many short-lived and idle threads (one
per WebRTC call for its microphone decoder, the `asyncio.to_thread` pool, SQLite's), so its
resident memory grew with every viewer: `bench/live.py` measured +39 MiB from one viewer to
four with the default, +20 MiB with two arenas, and no CPU cost. Two is what is widely run for
threaded servers (`MALLOC_ARENA_MAX=2`). An operator's own `MALLOC_ARENA_MAX` is left alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8
"""glibc's `mallopt` parameter for the most arenas (malloc.h)."""
GATEWAY_ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    """The process's C library if it is glibc (musl and others have no arena setting)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    has = hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt")
    return libc if has else None


def cap_malloc_arenas(arenas: int = GATEWAY_ARENAS) -> bool:
    """Cap the arenas threads created from now on share; False where nothing was changed (not
    glibc, or `MALLOC_ARENA_MAX` set by the operator). Threads that already have an arena
    keep it, so call this before the gateway starts its threads."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
