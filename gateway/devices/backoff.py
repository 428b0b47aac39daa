"""Jittered exponential backoff for reconnecting to cameras."""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from `initial` up to `maximum`, each scaled by a random 50–100 %.

    The jitter keeps a house full of cameras that dropped together (a switch reboot) from all
    retrying in the same instant.
    """

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography

    def next(self) -> float:
        """The delay before the next attempt."""
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.attempt, 32))
        self.attempt += 1
        return ceiling * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """Start again from `initial` (after the device stayed healthy for a while)."""
        self.attempt = 0
