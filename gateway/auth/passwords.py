"""Password hashing with argon2id, off the event loop (each hash costs tens of milliseconds)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's argon2id floor: 19 MiB, 2 iterations, 1 lane (SECURITY.md: t >= 2, m >= 19 MiB).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 10
MAX_LENGTH = 256
_DUMMY_HASH = _HASHER.hash("a dummy password that nobody has")


class WeakPassword(ValueError):
    """A password that does not meet the policy."""


def check_policy(password: str, username: str) -> None:
    """Refuse passwords that are too short, too long or the user name."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters")
    if password.strip().lower() == username.strip().lower():
        raise WeakPassword("the password must not be the user name")


async def hash_password(password: str) -> str:
    """An argon2id encoded hash."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(encoded: str | None, password: str) -> bool:
    """True if `password` matches; a missing account costs the same time as a wrong password."""

    def verify() -> bool:
        try:
            return _HASHER.verify(encoded or _DUMMY_HASH, password) and encoded is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(encoded)
