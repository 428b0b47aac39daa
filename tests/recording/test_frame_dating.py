"""A read's frames are dated back by their RTP timestamps, in order, never by a clock jump."""

from __future__ import annotations

import itertools

import pytest

from doorstep.gateway.recording.frames import MAX_AGE_S, sent_before_last


def test_a_reads_frames_are_dated_by_their_rtp_timestamps() -> None:
    # Eight frames of a 30 fps stream (3000 ticks apart at 90 kHz) read at once.
    ages = sent_before_last([1000 + 3000 * n for n in range(8)], 90_000)
    assert ages == pytest.approx([7 / 30, 6 / 30, 5 / 30, 4 / 30, 3 / 30, 2 / 30, 1 / 30, 0.0])


def test_the_timestamps_may_wrap_around() -> None:
    ages = sent_before_last([0xFFFF_FFFF - 159, 0xFFFF_FFFF - 159 + 160, 160], 8000)
    assert ages == pytest.approx([0.04, 0.02, 0.0])


def test_a_clock_jump_or_reordered_frame_never_dates_a_later_frame_before_an_earlier_one() -> None:
    # A jump of an hour between the second and third frame (a rebooted camera), then a
    # B-frame whose timestamp is before its neighbour's.
    stamps = [5000, 8000, 8000 + 3600 * 90_000, 8000 + 3600 * 90_000 + 6000,
              8000 + 3600 * 90_000 + 3000]  # fmt: skip
    ages = sent_before_last(stamps, 90_000)
    assert all(a >= b for a, b in itertools.pairwise(ages))  # arrival order kept
    assert max(ages) <= MAX_AGE_S
    assert ages[-1] == 0.0


def test_nothing_read_is_nothing_dated() -> None:
    assert sent_before_last([], 90_000) == []
    assert sent_before_last([42], 90_000) == [0.0]
