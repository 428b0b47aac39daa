"""The gateway's VAPID key pair (RFC 8292): made once, kept in the data directory, never replaced.

Every browser subscription is bound to the public key it was made with, so a new key would
silently stop every phone from ringing: a key file that cannot be read is an error to report,
never a reason to make another.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

_log = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"
FILE_MODE = 0o600
MAX_KEY_FILE = 16 * 1024


class VapidKeyError(Exception):
    """The VAPID key file exists but cannot be used (push stays off until it is fixed)."""


def b64url(data: bytes) -> str:
    """Unpadded base64url, as Web Push writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class VapidKeys:
    """The private key that signs VAPID tokens, and its public half as browsers take it."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_key: str
    """The uncompressed P-256 point, base64url: the browser's `applicationServerKey`."""

    @classmethod
    def of(cls, private_key: ec.EllipticCurvePrivateKey) -> VapidKeys:
        """Keys from a private key."""
        point = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return cls(private_key, b64url(point))


def _read(path: Path) -> VapidKeys:
    if path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)  # an older or copied-in file: tighten it, as the database's
    data = path.read_bytes()
    if len(data) > MAX_KEY_FILE:
        raise VapidKeyError(f"{path} is too large to be a VAPID key")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise VapidKeyError(f"{path} is not a readable PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError(f"{path} is not a P-256 key")
    return VapidKeys.of(key)


def load_or_create(data_dir: Path) -> tuple[VapidKeys, bool]:
    """The key pair from `data_dir`, creating it (PKCS#8 PEM, mode 0600) on first use.

    Returns (keys, created). Raises `VapidKeyError` for a file that exists but is unusable.
    Blocking: call it in a thread.
    """
    path = data_dir / KEY_FILE
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return _read(path), False
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written key to refuse on the next start
        raise
    return VapidKeys.of(key), True


async def open_keys(data_dir: Path) -> VapidKeys:
    """`load_or_create` off the event loop, logging a new key's creation."""
    keys, created = await asyncio.to_thread(load_or_create, data_dir)
    if created:
        _log.info("created the Web Push (VAPID) key %s in the data directory", KEY_FILE)
    return keys
