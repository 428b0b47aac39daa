"""The second factor: enrolling an authenticator app (with its QR code), one-time recovery
codes, and checking either one at sign-in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth import recovery, totp
from doorstep.gateway.auth.enrolment import TotpEnrolment
from doorstep.gateway.auth.errors import AuthError, throttled
from doorstep.gateway.auth.principal import Principal
from doorstep.gateway.auth.revocation import AccessChanges
from doorstep.gateway.auth.throttle import Attempt, LoginThrottle, Throttled
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import UserRecord, UserRepository


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """A pending secret: its URI, and the URI as a QR code (inline SVG and a data: URI)."""

    secret: str
    uri: str
    qr_svg: str
    qr_data_uri: str


class SecondFactor:
    """TOTP enrolment, recovery codes and the code check; throttled and audited."""

    def __init__(
        self,
        users: UserRepository,
        box: SecretBox,
        audit: AuditLog,
        refusals: RefusalAudit,
        throttle: LoginThrottle,
        changes: AccessChanges,
    ) -> None:
        self._users = users
        self._box = box
        self._audit = audit
        self._refusals = refusals
        self._throttle = throttle
        self._changes = changes
        self._enrolment = TotpEnrolment()

    # -- enrolment --------------------------------------------------------------------------
    async def begin(self, principal: Principal) -> TotpSetup:
        """A new secret and its QR code; it takes effect once a code from it is confirmed."""
        secret, uri = self._enrolment.begin(principal.user_id, principal.username)
        svg, data_uri = await asyncio.to_thread(totp.qr_code, uri)
        return TotpSetup(secret, uri, svg, data_uri)

    async def confirm(self, principal: Principal, code: str, ip: str) -> list[str]:
        """Turn the second factor on after a correct code from the new secret; returns a new
        set of recovery codes (replacing any older set), shown this once."""
        secret = self._enrolment.pending(principal.user_id)
        if secret is None:
            raise AuthError("no_pending_totp", "start the set-up again")
        try:  # throttled like every other code check, though the caller holds the secret
            attempt = self._throttle.reserve([f"enrol:{principal.user_id}"])
        except Throttled as exc:
            raise throttled(exc) from None
        step = totp.matching_step(secret, code)
        if step is None:
            raise AuthError("bad_totp", "that code does not match; check the phone's clock")
        self._throttle.refund(attempt)
        await self._users.set_totp(principal.user_id, self._box.seal(secret))
        await self._users.use_totp_step(principal.user_id, step)
        self._enrolment.finish(principal.user_id)
        codes = await self._replace_codes(principal.user_id)
        self._changes.changed(principal.user_id)
        await self._audit.append(
            principal.username, "user.totp", f"user:{principal.user_id}", ip=ip,
            detail={"recovery_codes": len(codes)},
        )  # fmt: skip
        return codes

    # -- recovery codes ---------------------------------------------------------------------
    async def _replace_codes(self, user_id: int) -> list[str]:
        codes = recovery.new_codes()
        hashes = [recovery.code_hash(user_id, recovery.normalize(c) or "") for c in codes]
        await self._users.replace_recovery_codes(user_id, hashes, datetime.now(UTC))
        return codes

    async def new_recovery_codes(self, principal: Principal, ip: str) -> list[str]:
        """A new set of recovery codes (the old set stops working); needs a second factor."""
        user = await self._users.by_id(principal.user_id)
        if user is None or user.totp_secret is None:
            raise AuthError("no_second_factor", "set up a second factor first")
        codes = await self._replace_codes(user.id)
        await self._audit.append(
            principal.username, "user.recovery_codes.new", f"user:{user.id}", ip=ip,
            detail={"codes": len(codes)},
        )  # fmt: skip
        return codes

    async def codes_left(self, user_id: int) -> int:
        """Recovery codes not used yet."""
        return len(await self._users.unused_recovery_codes(user_id))

    async def clear(self, user_id: int) -> bool:
        """Remove the account's second factor and recovery codes (and any pending set-up)."""
        self._enrolment.finish(user_id)
        return await self._users.clear_second_factor(user_id)

    # -- checking ---------------------------------------------------------------------------
    async def check(
        self, user: UserRecord, code: str | None, attempt: Attempt, action: str, ip: str
    ) -> None:
        """Accept the authenticator's code or an unused recovery code, or raise. The caller
        reserved `attempt` before checking the password: a wrong code keeps it counted."""
        if user.totp_secret is None:
            return
        if not code:
            self._throttle.refund(attempt)  # the page asks for the code next: not a failure
            raise AuthError("totp_required", "enter the code from your authenticator app")
        if recovery.normalize(code) is not None:
            await self._use_recovery_code(user, code, action, ip)
            return
        step = totp.matching_step(self._box.open(user.totp_secret), code)
        if step is None or not await self._users.use_totp_step(user.id, step):
            self._refusals.record(user.username, action, "failed_totp", ip)
            raise AuthError("bad_totp", "that code is wrong or was used already")

    async def _use_recovery_code(self, user: UserRecord, code: str, action: str, ip: str) -> None:
        stored = await self._users.unused_recovery_codes(user.id)
        found = recovery.matching_hash(user.id, code, stored)
        if found is None or not await self._users.use_recovery_code(
            user.id, found, datetime.now(UTC)
        ):
            self._refusals.record(user.username, action, "failed_recovery_code", ip)
            raise AuthError("bad_totp", "that code is wrong or was used already")
        await self._audit.append(
            user.username, "user.recovery_codes.use", f"user:{user.id}", ip=ip,
            detail={"left": await self.codes_left(user.id), "for": action},
        )  # fmt: skip
