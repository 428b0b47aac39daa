"""Time-based one-time passwords (RFC 6238) for the second factor, with replay protection."""

from __future__ import annotations

import base64
import io
import time

import pyotp

ISSUER = "Doorstep"
STEP_S = 30
WINDOW = 1  # accept the previous and next step too: phones' clocks drift


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_code(uri: str) -> tuple[str, str]:
    """The URI as a QR code: inline SVG markup, and the same as a base64 `data:` URI for an
    <img> (blocking: a millisecond or two)."""
    import segno  # noqa: PLC0415  # only at enrolment: the gateway need not carry it loaded

    code = segno.make(uri, error="m")
    inline = code.svg_inline(scale=4, omitsize=True, light="#fff")
    buffer = io.BytesIO()  # with its xmlns: an <img> shows no SVG without one
    code.save(buffer, kind="svg", scale=4, light="#fff", xmldecl=False, omitsize=True, nl=False)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return inline, f"data:image/svg+xml;base64,{encoded}"


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step `code` is valid for, or None; the caller refuses steps already used."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    for offset in range(-WINDOW, WINDOW + 1):
        at = moment + offset * STEP_S
        if totp.verify(code, for_time=at, valid_window=0):
            return int(at // STEP_S)
    return None
