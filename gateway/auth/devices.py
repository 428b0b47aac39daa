"""Known-device cookies: how the owner keeps a way in while someone guesses their password.

A browser that signed in correctly gets a signed cookie naming the account. Its sign-in
attempts are throttled by their own counter instead of the account's, so a password-guessing
attack on the account (which exhausts the account's counter) does not lock out the devices that
already proved they know the password — and a guesser without such a cookie gains nothing
(OWASP's "device cookies" defence against account lock-out).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "doorstep_device"
MAX_AGE_S = 365 * 24 * 3600
_VERSION = "d1"


class DeviceCookies:
    """Issues and checks known-device cookies with an HMAC key of the gateway's own."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, username: str, nonce: str) -> str:
        message = f"{_VERSION}|{username.strip().lower()}|{nonce}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, username: str) -> str:
        """A new cookie value for a browser that signed in as `username`."""
        nonce = secrets.token_urlsafe(12)
        return f"{_VERSION}.{nonce}.{self._mac(username, nonce)}"

    def device_for(self, value: str | None, username: str) -> str | None:
        """The device id in a valid cookie for `username`, else None."""
        if not value or len(value) > 128:
            return None
        version, _, rest = value.partition(".")
        nonce, _, mac = rest.partition(".")
        if version != _VERSION or not nonce or not mac:
            return None
        if not hmac.compare_digest(mac, self._mac(username, nonce)):
            return None
        return nonce
