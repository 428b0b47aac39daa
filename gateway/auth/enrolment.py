"""Second-factor enrolment in progress: a new TOTP secret waits here until a code confirms it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from doorstep.gateway.auth import totp

PENDING_TOTP_TTL = timedelta(minutes=10)


class TotpEnrolment:
    """Pending TOTP secrets per account, each for `PENDING_TOTP_TTL`."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[str, datetime]] = {}

    def begin(self, user_id: int, username: str) -> tuple[str, str]:
        """A new secret and its otpauth URI (replacing any earlier pending one)."""
        secret = totp.new_secret()
        self._pending[user_id] = (secret, datetime.now(UTC) + PENDING_TOTP_TTL)
        return secret, totp.provisioning_uri(secret, username)

    def pending(self, user_id: int) -> str | None:
        """The account's pending secret, unless it expired."""
        found = self._pending.get(user_id)
        if found is None or found[1] < datetime.now(UTC):
            return None
        return found[0]

    def finish(self, user_id: int) -> None:
        """Forget the pending secret (it was confirmed)."""
        self._pending.pop(user_id, None)
