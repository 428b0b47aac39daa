"""WS-Security UsernameToken checking, against the simulated device's own (skewable) clock."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from doorstep.simulator.soap import NS, not_authorized, qname

TOLERANCE = timedelta(seconds=60)
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)), the UsernameToken digest."""
    digest = hashlib.sha1(nonce + created.encode() + password.encode(), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode()


def check_username_token(
    header: ET.Element | None, username: str, password: str, device_now: datetime
) -> None:
    """Raise a NotAuthorized SoapFault unless the header carries a valid, fresh token."""
    token = None
    if header is not None:
        token = header.find(f"{qname(NS['wsse'], 'Security')}/{qname(NS['wsse'], 'UsernameToken')}")
    if token is None:
        raise not_authorized()
    user = token.findtext(qname(NS["wsse"], "Username"), "")
    password_element = token.find(qname(NS["wsse"], "Password"))
    if password_element is None or not secrets.compare_digest(user.encode(), username.encode()):
        raise not_authorized()
    given = (password_element.text or "").strip()
    if password_element.get("Type", PASSWORD_DIGEST) != PASSWORD_DIGEST:
        if not secrets.compare_digest(given.encode(), password.encode()):
            raise not_authorized()
        return
    created = token.findtext(qname(NS["wsu"], "Created"), "").strip()
    nonce_text = token.findtext(qname(NS["wsse"], "Nonce"), "").strip()
    try:
        nonce = base64.b64decode(nonce_text, validate=True)
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except (binascii.Error, ValueError):
        raise not_authorized() from None
    # The digest is only as good as its freshness: a token minted for another clock is refused,
    # which is exactly what breaks clients that ignore a skewed camera clock.
    if created_at.tzinfo is None or abs(created_at - device_now) > TOLERANCE:
        raise not_authorized()
    if not secrets.compare_digest(
        password_digest(nonce, created, password).encode(), given.encode()
    ):
        raise not_authorized()
