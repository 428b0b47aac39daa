"""What account operations hand back: the refusal with its stable code, and a new session."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from doorstep.gateway.auth.principal import Principal
from doorstep.gateway.auth.throttle import Throttled


class AuthError(Exception):
    """A sign-in or account operation was refused; `code` is stable for the UI."""

    def __init__(self, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


def throttled(exc: Throttled) -> AuthError:
    """The refusal for an attempt over its limit."""
    return AuthError("throttled", "too many attempts; wait and try again", exc.retry_after)


def token_hash(token: str) -> str:
    """What is stored for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignIn:
    """A new session: the cookie value, who it belongs to, and the browser's known-device
    cookie (set it: it keeps this browser's way in during a password-guessing attack)."""

    token: str
    principal: Principal
    device_cookie: str = ""
