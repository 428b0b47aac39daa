"""HTTP and RTSP access authentication: Digest (RFC 2617, MD5, qop=auth) and Basic (RFC 7617).

The one implementation behind the gateway's RTSP client and the simulator's HTTP and RTSP
servers. Cameras still speak the 1999 Digest of RFC 2617 (MD5, often without qop), so that is
what is implemented; SHA-256 Digest (RFC 7616) has not been seen on a camera here.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    # MD5 is what the protocol specifies, not a choice made here.
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_params(text: str) -> dict[str, str]:
    """The `name=value` / `name="value"` pairs of a challenge or an Authorization header."""
    return {m.group(1).lower(): m.group(2) or m.group(3) for m in _PARAM.finditer(text)}


def split_scheme(header: str) -> tuple[str, str]:
    """`Digest realm=…` → ("digest", "realm=…")."""
    scheme, _, params = header.strip().partition(" ")
    return scheme.lower(), params


def digest_response(
    *,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The `response` value both sides compute: with qop=auth, or the RFC 2069 form without."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop == "auth":
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def digest_authorization(
    challenge: Mapping[str, str], username: str, password: str, method: str, uri: str
) -> str:
    """The client's `Authorization: Digest …` answer to a parsed challenge."""
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    fields = f'username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    qop = "auth" if "auth" in challenge.get("qop", "").replace(" ", "").split(",") else None
    if qop:
        # One request per nonce use: the count stays 1, a fresh cnonce each time.
        cnonce = secrets.token_hex(8)
        fields += f', qop=auth, nc=00000001, cnonce="{cnonce}"'
        response = digest_response(
            username=username, password=password, realm=realm, nonce=nonce, method=method,
            uri=uri, qop=qop, nc="00000001", cnonce=cnonce,
        )  # fmt: skip
    else:
        response = digest_response(
            username=username, password=password, realm=realm, nonce=nonce, method=method, uri=uri
        )
    if "opaque" in challenge:
        fields += f', opaque="{challenge["opaque"]}"'
    return f'Digest {fields}, response="{response}"'


def digest_challenge(realm: str, nonce: str, *, qop: bool = True) -> str:
    """A server's `WWW-Authenticate: Digest …` value."""
    if qop:
        return f'Digest realm="{realm}", qop="auth", nonce="{nonce}", algorithm=MD5'
    return f'Digest realm="{realm}", nonce="{nonce}"'


def check_digest(
    header: str,
    *,
    username: str,
    password: str,
    realm: str,
    method: str,
    nonce_ok: Callable[[str], bool],
) -> bool:
    """Server side: whether an `Authorization: Digest …` header proves the password."""
    scheme, rest = split_scheme(header)
    if scheme != "digest":
        return False
    p = parse_params(rest)
    nonce = p.get("nonce", "")
    if p.get("username") != username or not nonce or not nonce_ok(nonce):
        return False
    qop = p.get("qop")
    expected = digest_response(
        username=username, password=password, realm=realm, nonce=nonce, method=method,
        uri=p.get("uri", ""), qop=qop, nc=p.get("nc", ""), cnonce=p.get("cnonce", ""),
    )  # fmt: skip
    return secrets.compare_digest(expected.encode(), p.get("response", "").encode())


def basic_authorization(username: str, password: str) -> str:
    """The client's `Authorization: Basic …` value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def check_basic(header: str, *, username: str, password: str) -> bool:
    """Server side: whether an `Authorization: Basic …` header carries these credentials."""
    scheme, rest = split_scheme(header)
    if scheme != "basic":
        return False
    try:
        given = base64.b64decode(rest.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return secrets.compare_digest(given.encode(), f"{username}:{password}".encode())
