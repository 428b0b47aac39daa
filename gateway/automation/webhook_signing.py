"""How an outgoing webhook proves it comes from this gateway: HMAC-SHA256 over timestamp and body.

The receiver recomputes `sha256=HEX(HMAC-SHA256(secret, "<timestamp>.<body>"))` with the secret
shown when the rule was created (its UTF-8 bytes), compares it with `X-Doorstep-Signature` in
constant time, and refuses a timestamp more than a few minutes from its own clock (a replay).
`verify` is that check, for Python receivers and for the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP = "X-Doorstep-Timestamp"
SIGNATURE = "X-Doorstep-Signature"
EVENT = "X-Doorstep-Event"
DELIVERY = "X-Doorstep-Delivery"
PREFIX = "sha256="
DEFAULT_TOLERANCE_S = 300


def new_secret() -> str:
    """A fresh signing secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Doorstep-Signature` value for this timestamp and body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The timestamp and signature headers of one attempt."""
    stamp = str(timestamp)
    return {TIMESTAMP: stamp, SIGNATURE: signature(secret, stamp, body)}


def verify(
    secret: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether a received request is signed with `secret` and recent (what a receiver checks)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature_header.encode("utf-8", "replace"))
