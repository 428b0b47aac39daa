"""Agency-signed request files: a request's JSON signed with the agency's Ed25519 key, the key
pinned when the owner added the agency. The file the owner uploads is what is kept."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from doorstep.gateway.keys.signing import SigningKey, VerifyKey

MAX_FILE = 65536


class SignatureRefused(ValueError):
    """The file is not a request signed by the agency's pinned key."""


def canonical(value: Any) -> bytes:
    """The bytes a signature covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_request(key: SigningKey, request: dict[str, Any]) -> bytes:
    """A signed request file (what an agency's tool writes; used by tests and the docs)."""
    signature = base64.b64encode(key.sign(canonical(request))).decode()
    document = {"request": request, "signature": signature, "key": key.public.fingerprint}
    return json.dumps(document, indent=1).encode()


def open_signed(raw: bytes, pinned: VerifyKey) -> dict[str, Any]:
    """The request inside a signed file, once its signature checks out against `pinned`."""
    if len(raw) > MAX_FILE:
        raise SignatureRefused(f"a request file is at most {MAX_FILE // 1024} KiB")
    try:
        document = json.loads(raw)
    except ValueError:
        raise SignatureRefused("the file is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("request"), dict):
        raise SignatureRefused('the file holds {"request": …, "signature": …}')
    signature = document.get("signature")
    try:
        signed = base64.b64decode(signature if isinstance(signature, str) else "", validate=True)
    except (binascii.Error, ValueError):
        signed = b""
    request: dict[str, Any] = document["request"]
    if not signed or not pinned.verify(signed, canonical(request)):
        raise SignatureRefused(
            f"the signature is not the agency's pinned key ({pinned.fingerprint})"
        )
    return request
