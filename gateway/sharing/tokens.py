"""Share link tokens: 192 random bits from the OS, kept only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 24
"""192 bits (the issue asks for at least 128): 32 URL-safe characters."""
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
VIEW_KEY_BYTES = 18


def new_token() -> str:
    """A fresh link token (shown to the owner once, never stored)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_view_key() -> str:
    """A key for one counted view: its player fetches the media with it."""
    return secrets.token_urlsafe(VIEW_KEY_BYTES)


def token_hash(token: str) -> str:
    """What is stored and looked up: the SHA-256 of the token (hex). Any text hashes, so a
    malformed token costs the same lookup as a well-formed one."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
