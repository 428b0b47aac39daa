"""The suite reads nothing outside the checkout, least of all the corpus in ../shared."""

from __future__ import annotations

import re
from pathlib import Path

from tests import shared_guard

TESTS = Path(__file__).resolve().parent
PATH_INTO_SHARED = re.compile(r"""["']\.\./shared|/\s*["']shared["']|["']camera-samples["']""")
"""Code that builds a path to the sibling folder: "../shared…", `… / "shared"`, "camera-samples"."""


def test_no_test_file_builds_a_path_into_shared() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in TESTS.rglob("*.py")
        if path.name not in {Path(__file__).name, "shared_guard.py"}  # these two name it on purpose
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PATH_INTO_SHARED.search(line)
    ]
    assert offenders == []


def test_the_guard_catches_a_read_under_shared() -> None:
    # The hook is fed the events a read would raise; nothing is opened.
    sample = str(Path(shared_guard.SHARED) / "camera-samples" / "expected.json")
    shared_guard.audit("open", (sample, "r", 0))
    shared_guard.audit("os.scandir", (Path(shared_guard.SHARED),))
    shared_guard.audit("open", (str(TESTS / "conftest.py"), "r", 0))  # inside the checkout
    shared_guard.audit("open", (3, "r", 0))  # a file descriptor
    caught, shared_guard.reads[:] = list(shared_guard.reads), []  # so this test passes
    assert caught == [f"open {sample}", f"os.scandir {shared_guard.SHARED}"]
