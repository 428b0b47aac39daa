"""Audit checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note):
text the owner can keep off the box and any Ed25519 tool can check.

    doorstep/audit/1a2b3c4d5e6f7a8b        <- origin: this gateway's log
    1042                                   <- tree size: rows 1..1042
    q6vVj8...=                             <- base64 RFC 9162 root over their entry hashes
    time 2026-12-03T16:00:00Z              <- extension line
                                           <- blank line
    — doorstep/audit/1a2b3c4d5e6f7a8b AbCd...   <- key id (4 bytes) + signature, base64
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from doorstep.gateway.keys.signing import SigningKey, VerifyKey

MAX_NOTE = 8192
_DASH = "\u2014"


def origin_for(key: VerifyKey) -> str:
    """The origin (and key name) of the log signed by `key`."""
    return "doorstep/audit/" + hashlib.sha256(key.raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key's name, its 4-byte id, the signature."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A parsed checkpoint: what it claims and who signed it."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    body: str
    signatures: tuple[NoteSignature, ...]

    @property
    def time(self) -> str:
        """The `time` extension's value, or ''."""
        for line in self.extensions:
            if line.startswith("time "):
                return line[5:]
        return ""

    def signed_by(self, key: VerifyKey) -> bool:
        """Whether a signature on this note is `key`'s (under the key's name for this log)."""
        name = origin_for(key)
        key_id = key.note_key_id(name)
        return any(
            sig.name == name
            and sig.key_id == key_id
            and key.verify(sig.signature, self.body.encode())
            for sig in self.signatures
        )

    def key_ids(self) -> list[str]:
        """The signers' key ids in hex (to say which key signed it when it is not the pinned)."""
        return [sig.key_id.hex() for sig in self.signatures]


def sign_checkpoint(key: SigningKey, size: int, root: bytes, time: str) -> str:
    """The signed note for the first `size` entries whose root is `root`."""
    origin = origin_for(key.public)
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntime {time}\n"
    blob = key.public.note_key_id(origin) + key.sign(body.encode())
    return f"{body}\n{_DASH} {origin} {base64.b64encode(blob).decode()}\n"


class NoteError(ValueError):
    """The text is not a checkpoint note."""


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint note; `NoteError` (saying why) when it is not one."""
    if len(text) > MAX_NOTE:
        raise NoteError("a checkpoint is at most 8 KiB")
    text = text.replace("\r\n", "\n")
    body, sep, sig_block = text.partition("\n\n")
    if not sep:
        raise NoteError("no blank line before the signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root")
    origin, size_text, root_text, *extensions = lines
    if not size_text.isdigit():
        raise NoteError("the size is not a number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteError("the root is not base64") from None
    if len(root) != 32:
        raise NoteError("the root is not a SHA-256 hash")
    signatures = []
    for line in sig_block.rstrip("\n").split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            raise NoteError("a signature line is '— name base64'")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("a signature is not base64") from None
        if len(blob) != 4 + 64:
            raise NoteError("an Ed25519 note signature is 68 bytes")
        signatures.append(NoteSignature(parts[1], blob[:4], blob[4:]))
    return Checkpoint(origin, int(size_text), root, tuple(extensions), body, tuple(signatures))
