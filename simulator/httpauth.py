"""HTTP Basic and Digest authentication of the simulated snapshot URL, as cameras do it."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections import deque

_DIGEST_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(value: str) -> str:
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


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
        return f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", algorithm=MD5'

    def check(self, header: str, method: str, username: str, password: str) -> bool:
        """True if the Authorization header carries the right credentials."""
        if header.startswith("Basic "):
            try:
                user, _, given = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return secrets.compare_digest(
                f"{user}:{given}".encode(), f"{username}:{password}".encode()
            )
        if not header.startswith("Digest "):
            return False
        p = {
            m.group(1).lower(): m.group(2) or m.group(3) for m in _DIGEST_PARAM.finditer(header[7:])
        }
        if p.get("username") != username or p.get("nonce") not in self._nonces:
            return False
        ha1 = _md5(f"{username}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{p.get('uri', '')}")
        if p.get("qop") == "auth":
            expected = _md5(
                f"{ha1}:{p['nonce']}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}"
            )
        else:
            expected = _md5(f"{ha1}:{p['nonce']}:{ha2}")
        return secrets.compare_digest(expected, p.get("response", ""))
