"""Consent receipts: what the owner granted or declined for one request, signed with the
gateway's key, so the owner and the agency can both show what was agreed."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from doorstep.gateway.evidence.signed_requests import canonical
from doorstep.gateway.keys.signing import SigningKey, VerifyKey

RECEIPT_TYPE = "doorstep.consent-receipt/1"


def receipt_body(
    *, request: dict[str, Any], decision: str, decided_at: datetime, decided_by: str,
    granted: list[dict[str, Any]], declined: list[str], hold_until: datetime | None,
    key: VerifyKey,
) -> dict[str, Any]:  # fmt: skip
    """The receipt's content: the request, the decision, each granted clip and its hashes."""
    return {
        "type": RECEIPT_TYPE, "request": request, "decision": decision,
        "decided_at": decided_at.isoformat(), "decided_by": decided_by, "granted": granted,
        "declined": declined, "recipient": request.get("agency"),
        "legal_hold_until": hold_until.isoformat() if hold_until else None,
        "key_fingerprint": key.fingerprint,
    }  # fmt: skip


def sign_receipt(key: SigningKey, body: dict[str, Any]) -> tuple[str, str]:
    """(the canonical text, its base64 Ed25519 signature)."""
    text = canonical(body).decode()
    return text, base64.b64encode(key.sign(text.encode())).decode()


def check_receipt(receipt: object, key: VerifyKey) -> tuple[dict[str, Any] | None, list[str]]:
    """The receipt's body if its signature is `key`'s, and what is wrong with it."""
    if not isinstance(receipt, dict):
        return None, ["the consent receipt is missing"]
    text, signature = receipt.get("body"), receipt.get("signature")
    if not isinstance(text, str) or not isinstance(signature, str):
        return None, ["the consent receipt is malformed"]
    try:
        raw = base64.b64decode(signature, validate=True)
        body = json.loads(text)
    except (binascii.Error, ValueError):
        return None, ["the consent receipt is malformed"]
    problems = []
    if not key.verify(raw, text.encode()):
        problems.append(f"the consent receipt is not signed by {key.fingerprint}")
    if not isinstance(body, dict) or body.get("type") != RECEIPT_TYPE:
        return None, [*problems, "the consent receipt is not a Doorstep receipt"]
    return body, problems
