"""The gateway's key for secrets at rest (camera passwords in the database)."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


class SecretBox:
    """Encrypts and decrypts small secrets with a key kept in the data directory (mode 0600).

    A copy of the database alone (a backup, a support bundle) then reveals no camera password.
    """

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A key of its own for one purpose (e.g. signing cookies), derived from this one."""
        return hmac.new(self._key, f"doorstep:{purpose}".encode(), hashlib.sha256).digest()

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SecretBox:
        """Read the key file, creating it on first run. Blocking: call it in a thread."""
        path = data_dir / KEY_FILE
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls(path.read_bytes().strip())
        key = Fernet.generate_key()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        return cls(key)

    def seal(self, secret: str) -> bytes:
        """Encrypt a secret."""
        return self._fernet.encrypt(secret.encode())

    def open(self, sealed: bytes) -> str:
        """Decrypt a secret; ValueError if it was sealed with another key or tampered with."""
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            raise ValueError("secret cannot be decrypted with this gateway's key") from None
