"""The gateway caps glibc's malloc arenas: threads share two instead of getting one each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# In a fresh interpreter (arenas cannot be un-created): 8 threads each malloc and hold a block
# at once, then glibc's own report (`malloc_info`) counts the arenas, one `<heap>` each.
COUNT_ARENAS = """
import ctypes, sys, tempfile, threading
from doorstep.gateway.config.allocator import cap_malloc_arenas
capped = cap_malloc_arenas() if sys.argv[1] == "cap" else None
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
held = threading.Barrier(8)
def work():
    block = libc.malloc(4096)
    held.wait()
    libc.free(block)
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    fp = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(capped, open(report.name).read().count("<heap nr="))
"""


def arenas(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode], capture_output=True, text=True, check=True,
        env={**clean, **(env or {})}, cwd=Path(__file__).parent,
    ).stdout.split()  # fmt: skip
    return out[0], int(out[1])


def test_threads_share_two_arenas_once_capped() -> None:
    capped, count = arenas("cap")
    assert capped == "True"
    assert count <= 2
    _, uncapped = arenas("leave")
    assert uncapped > 2  # the default: the 8 threads got arenas of their own


def test_an_operators_malloc_arena_max_is_left_alone() -> None:
    capped, count = arenas("cap", {"MALLOC_ARENA_MAX": "4"})
    assert capped == "False"
    assert 2 < count <= 4
