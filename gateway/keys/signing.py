"""The gateway's Ed25519 signing key: it signs audit checkpoints, consent receipts and
evidence manifests, and is named by a fingerprint the owner can pin off the box.

The key lives in its own file (mode 0600) beside the database, never in it: a copy of the
database alone cannot sign anything.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "signing.key"
ED25519_ALGORITHM = 0x01
"""The signature-type byte of C2SP signed notes for Ed25519."""


def fingerprint_of(public_raw: bytes) -> str:
    """`SHA256:` and the unpadded base64 of the raw public key's SHA-256 (as ssh shows keys)."""
    digest = hashlib.sha256(public_raw).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class VerifyKey:
    """A public key, to check signatures with (no secret in it)."""

    raw: bytes

    @property
    def fingerprint(self) -> str:
        """How the owner names and pins this key."""
        return fingerprint_of(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether `signature` is this key's over `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def note_key_id(self, name: str) -> bytes:
        """The 4-byte key id a C2SP signed note carries for this key under `name`."""
        material = name.encode() + b"\n" + bytes([ED25519_ALGORITHM]) + self.raw
        return hashlib.sha256(material).digest()[:4]

    def vkey(self, name: str) -> str:
        """The C2SP verifier key string: `name+keyid+base64(type||key)`."""
        encoded = base64.b64encode(bytes([ED25519_ALGORITHM]) + self.raw).decode()
        return f"{name}+{self.note_key_id(name).hex()}+{encoded}"

    def pem(self) -> str:
        """The key as a SubjectPublicKeyInfo PEM block (for `openssl pkeyutl -verify`)."""
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @classmethod
    def parse(cls, text: str) -> VerifyKey:
        """A key from its base64 raw form, a PEM block or a C2SP vkey; ValueError otherwise."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
            return cls(key.public_bytes_raw())
        for candidate in (text, text.split("+", 2)[-1]):  # raw base64, or a vkey's last part
            try:
                raw = base64.b64decode(candidate, validate=True)
            except ValueError:
                continue
            if len(raw) == 33 and raw[0] == ED25519_ALGORITHM:
                raw = raw[1:]
            if len(raw) == 32:
                return cls(raw)
        raise ValueError("not an Ed25519 public key (base64, PEM or vkey)")


class SigningKey:
    """The gateway's private key; signs bytes. Loading and signing are fast (tens of µs), but
    loading reads a file: call `load_or_create` in a thread."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = VerifyKey(private.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message`."""
        return self._private.sign(message)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key held in memory only (tests, and the other key of a key-swap check)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """Read a key file; ValueError if it holds no Ed25519 private key."""
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} holds no Ed25519 private key")
        return cls(key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SigningKey:
        """The data directory's key, created (mode 0600, fsynced) on first run. Blocking."""
        path = data_dir / KEY_FILE
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.load(path)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        return cls(key)

    def write(self, path: Path) -> None:
        """Write this key to a new file (mode 0600); FileExistsError if one is there."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        pem = self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)


def public_key_of(data_dir: Path) -> VerifyKey | None:
    """The public half of the data directory's key, or None when there is none yet. Blocking."""
    path = data_dir / KEY_FILE
    if not path.exists():
        return None
    return SigningKey.load(path).public
