"""HTTP Basic and Digest authentication of the simulated snapshot URL, as cameras do it."""

from __future__ import annotations

import secrets
from collections import deque

from doorstep.protocols.digest import check_basic, check_digest, digest_challenge


class SnapshotAuth:
    """HTTP Basic or Digest (RFC 2617 with qop=auth) for the snapshot URL, as cameras do."""

    def __init__(self, realm: str) -> None:
        self.realm = realm
        self._nonces: deque[str] = deque(maxlen=64)

    def basic_challenge(self) -> str:
        """The challenge of a device that knows Basic only."""
        return f'Basic realm="{self.realm}"'

    def challenge(self) -> str:
        """A fresh Digest challenge."""
        nonce = secrets.token_hex(16)
        self._nonces.append(nonce)
        return digest_challenge(self.realm, nonce)

    def check(self, header: str, method: str, username: str, password: str) -> bool:
        """True if the Authorization header carries the right credentials."""
        if check_basic(header, username=username, password=password):
            return True
        return check_digest(
            header, username=username, password=password, realm=self.realm, method=method,
            nonce_ok=self._nonces.__contains__,
        )  # fmt: skip
