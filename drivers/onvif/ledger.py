"""The event subscriptions a camera holds for us, remembered in the driver's data_dir.

A gateway that crashed (or lost power) cannot unsubscribe; its subscriptions keep the camera's
few slots until they expire. The ledger lets the next start Unsubscribe them first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

LEDGER_NAME = "onvif-subscriptions.json"
MAX_ENTRIES = 8
MAX_LEDGER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Held:
    """One subscription reference: its address and whether it is a push (Notify) one."""

    address: str
    push: bool = False


class SubscriptionLedger:
    """Reads and writes the ledger off the event loop; a broken ledger is an empty one."""

    def __init__(
        self, data_dir: Path, log: logging.Logger | logging.LoggerAdapter[logging.Logger]
    ) -> None:
        self._path = data_dir / LEDGER_NAME
        self._log = log

    async def load(self) -> list[Held]:
        """What the last run left behind (at most MAX_ENTRIES)."""
        return await asyncio.to_thread(self._load)

    async def save(self, held: list[Held]) -> None:
        """Remember exactly `held` (nothing: the file goes)."""
        await asyncio.to_thread(self._save, held[:MAX_ENTRIES])

    def _load(self) -> list[Held]:
        try:
            with self._path.open("rb") as fh:
                raw = fh.read(MAX_LEDGER_BYTES + 1)
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._log.debug("cannot read the subscription ledger: %s", type(exc).__name__)
            return []
        try:
            if len(raw) > MAX_LEDGER_BYTES:
                raise ValueError("too large")
            entries = json.loads(raw)["held"]
            return [
                Held(str(e["address"])[:2048], bool(e.get("push", False)))
                for e in entries[:MAX_ENTRIES]
                if isinstance(e, dict) and isinstance(e.get("address"), str)
            ]
        except (ValueError, KeyError, TypeError):
            self._log.info("the subscription ledger is unreadable; starting afresh")
            return []

    def _save(self, held: list[Held]) -> None:
        try:
            if not held:
                self._path.unlink(missing_ok=True)
                return
            self._path.parent.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"held": [{"address": h.address, "push": h.push} for h in held]})
            partial = self._path.with_suffix(".tmp")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(body)
            partial.replace(self._path)
        except OSError as exc:  # a read-only data_dir costs the clean-up, nothing else
            self._log.debug("cannot write the subscription ledger: %s", type(exc).__name__)
