"""Every real camera payload in a corpus directory, normalised and checked against expected.json.

The corpus comes from other projects and is not committed here: `scripts/test-corpus DIR` runs
these checks on DIR (CI: ../shared/camera-samples). The suite's own tests use payloads written for
this project (tests/drivers/onvif/payloads).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from doorstep.drivers.onvif.normalize import normalize
from doorstep.drivers.onvif.notification import (
    Notification,
    notification_from_zeep,
    parse_notifications,
)

from .conftest import corpus_dir

SAMPLES = corpus_dir()
NOT_SAMPLES = {"INDEX.md", "index.json", "expected.json"}
RECEIVED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def load_expected() -> dict[str, Any]:
    """expected.json, one entry per sample file."""
    assert (SAMPLES / "expected.json").is_file(), f"no expected.json in {SAMPLES}"
    expected: dict[str, Any] = json.loads((SAMPLES / "expected.json").read_text())
    return expected


EXPECTED = load_expected()


def load_notifications(path: Path) -> list[Notification]:
    """A sample through the parser its form needs: zeep dicts for .json, raw bytes for .xml."""
    if path.suffix == ".json":
        return [notification_from_zeep(json.loads(path.read_text()))]
    assert path.suffix == ".xml", path
    return parse_notifications(path.read_bytes())


def test_every_sample_has_an_expectation_and_every_expectation_a_sample() -> None:
    files = {p.name for p in SAMPLES.iterdir() if p.is_file() and p.name not in NOT_SAMPLES}
    assert files == set(EXPECTED)
    assert files, "no samples found"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_normalises_as_expected(name: str) -> None:
    notifications = load_notifications(SAMPLES / name)
    events = [event for n in notifications for event in normalize(n, RECEIVED)]

    got = [(e.kind.value, e.active, e.initial, e.source) for e in events]
    want = [(e["kind"], e["active"], e["initial"], e["source"]) for e in EXPECTED[name]["events"]]
    assert got == want
    for notification in notifications:
        assert notification.topic
    for event in events:
        assert event.time.tzinfo is not None
        assert event.topic in {n.topic for n in notifications}


@pytest.mark.parametrize(
    "name", sorted(name for name, entry in EXPECTED.items() if "protocol" in entry)
)
def test_protocol_responses_hold_no_notification(name: str) -> None:
    assert parse_notifications((SAMPLES / name).read_bytes()) == []
