"""One-time recovery codes: what to type at sign-in when the authenticator app is gone.

Each code is 16 characters of Crockford's base32 (80 random bits), shown in four groups of four
("7KQ2-M9XD-A4TF-0RWB"). Typing is forgiving: case, spaces and dashes do not matter, and O, I
and L read as 0, 1 and 1. Only a SHA-256 of the code is stored: with 80 random bits there is
nothing for a slow hash to protect, unlike a password chosen by a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

COUNT = 10
"""Codes in a set."""
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: no I, L, O or U, so nothing reads as something else."""
LENGTH = 16
GROUP = 4
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_codes(count: int = COUNT) -> list[str]:
    """A fresh set of codes, grouped for reading."""
    raw = ("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(count))
    return [_grouped(code) for code in raw]


def _grouped(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize(typed: str) -> str | None:
    """The code as stored (16 characters), or None when `typed` cannot be a recovery code."""
    if len(typed) > 64:
        return None
    code = typed.upper().replace("-", "").replace(" ", "").translate(_READS_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(user_id: int, code: str) -> str:
    """What is stored for a normalized code (bound to its account)."""
    return hashlib.sha256(f"doorstep-recovery|{user_id}|{code}".encode()).hexdigest()


def matching_hash(user_id: int, typed: str, stored: Iterable[str]) -> str | None:
    """The stored hash the typed code matches, or None. Every stored hash is compared in
    constant time, and all of them are, whatever matched first."""
    code = normalize(typed)
    if code is None:
        return None
    candidate = code_hash(user_id, code).encode()
    found = None
    for stored_hash in stored:
        if hmac.compare_digest(candidate, stored_hash.encode()):
            found = stored_hash
    return found
