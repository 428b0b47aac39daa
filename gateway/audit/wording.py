"""The phrases audit sentences are made of: who (by name), from where, about what (camera and
account names instead of ids), how many, how long."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from doorstep.gateway.audit.log import AuditEntry
from doorstep.gateway.audit.refusals import MAX_ACTORS

MACHINES = {"cli": "The console", "console": "The console", "anonymous": "Someone", "": "Someone",
            "retention": "Clip retention"}  # fmt: skip
NO_ADDRESS = frozenset({"", "cli", "console"})
ROLE_WORDS = {"owner": "an owner", "resident": "a resident", "neighbour": "a neighbour",
              "agency": "an agency account"}  # fmt: skip
STATUS_WORDS = {"401": "not signed in", "403": "not allowed", "404": "not found"}


@dataclass(frozen=True, slots=True)
class Names:
    """What ids in the log stand for now: camera id → name, account id → user name."""

    cameras: Mapping[str, str] = field(default_factory=dict)
    users: Mapping[int, str] = field(default_factory=dict)


def duration(seconds: float) -> str:
    """'40 s', '2 min', '1 h 5 min'."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def and_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def count_phrase(n: int, singular: str, plural: str) -> str:
    """'A failed sign-in', '5 failed sign-ins'."""
    return f"A {singular}" if n == 1 else f"{n} {plural}"


def possessive(name: str) -> str:
    """'rita's'."""
    return f"{name}'s"


class Row:
    """One entry with the names it refers to, and the phrases sentences are made of."""

    def __init__(self, entry: AuditEntry, names: Names, seconds: float | None = None) -> None:
        self.entry = entry
        self.names = names
        self.seconds = seconds
        """For a call's end paired with its start: how long the call was."""

    @property
    def actor(self) -> str:
        return MACHINES.get(self.entry.actor, self.entry.actor)

    @property
    def ip(self) -> str:
        ip = self.entry.ip
        if ip in NO_ADDRESS:
            return ""
        return " from many addresses" if ip == "*" else f" from {ip}"

    def detail(self, key: str) -> Any:
        return self.entry.detail.get(key)

    def text(self, key: str) -> str | None:
        value = self.detail(key)
        return value if isinstance(value, str) and value else None

    def number(self, key: str) -> float | None:
        value = self.detail(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    @property
    def target(self) -> str:
        """The account, camera or thing the row is about, by name."""
        kind, _, ident = self.entry.target.partition(":")
        if kind == "user" and ident.isdigit():
            # The name written with the row first: an id can be reused after a deletion.
            return self.text("username") or self.names.users.get(int(ident)) or f"account #{ident}"
        if kind == "camera" and ident:
            return self.camera_name(ident)
        return self.entry.target

    @property
    def role_words(self) -> str:
        return ROLE_WORDS.get(self.text("role") or "", "an account")

    @property
    def named(self) -> bool:
        """Whether the target account's name is known (it may have been deleted since)."""
        kind, _, ident = self.entry.target.partition(":")
        if kind != "user" or not ident.isdigit():
            return True
        return int(ident) in self.names.users or self.text("username") is not None

    def camera_name(self, camera_id: str) -> str:
        return self.names.cameras.get(camera_id, camera_id)

    @property
    def tried(self) -> str:
        """' for bob', ' for bob and carol', ' for bob, …, erin and maybe others' (refusal rows:
        they keep the first few names tried)."""
        raw = self.detail("tried")
        names = [n for n in raw if isinstance(n, str) and n and n != "anonymous"] if isinstance(
            raw, list
        ) else []  # fmt: skip
        if not names:
            return "" if self.entry.actor in MACHINES else f" for {self.entry.actor}"
        more = len(names) >= MAX_ACTORS and (self.number("count") or 0) > len(names)
        return f" for {and_list([*names, 'maybe others'] if more else names)}"
