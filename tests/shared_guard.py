"""Fails any test that reads the sibling `../shared` folder: the suite reads nothing outside the
checkout (the real payload corpus there is checked by scripts/test-corpus, never by the suite)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED = str(Path(__file__).resolve().parents[2] / "shared")
WATCHED = frozenset({"open", "os.listdir", "os.scandir", "glob.glob"})
"""Audit events that name a path read (os.walk and Path.iterdir go through listdir/scandir)."""

reads: list[str] = []
"""What was read under SHARED while a test ran (cleared per test)."""
_state = {"installed": False, "on": False}
_CWD = os.getcwd()


def audit(event: str, args: tuple[Any, ...]) -> None:
    """The audit hook: records a watched event whose path lies under SHARED (cheap: no syscall)."""
    if not _state["on"] or event not in WATCHED or not args:
        return
    path = args[0]
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):  # a file descriptor, or listdir() of the cwd
        return
    full = os.path.normpath(path if os.path.isabs(path) else os.path.join(_CWD, path))
    if full == SHARED or full.startswith(SHARED + os.sep):
        reads.append(f"{event} {full}")


@pytest.fixture(autouse=True)
def reads_nothing_from_shared() -> Iterator[None]:
    """Autouse: the test fails if it (or the code under test) read anything under ../shared."""
    if not _state["installed"]:
        sys.addaudithook(audit)  # for the life of the process; `on` gates it
        _state["installed"] = True
    reads.clear()
    _state["on"] = True
    try:
        yield
    finally:
        _state["on"] = False
    found, reads[:] = list(reads), []
    assert not found, f"the suite must not read ../shared (scripts/test-corpus does): {found}"
