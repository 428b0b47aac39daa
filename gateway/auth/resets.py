"""The owner (or the console) resets someone else's password or second factor: every session of
that account ends at once, and the change is audited."""

from __future__ import annotations

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.auth.errors import AuthError
from doorstep.gateway.auth.passwords import check_policy, hash_password
from doorstep.gateway.auth.principal import Principal
from doorstep.gateway.auth.revocation import AccessChanges
from doorstep.gateway.auth.second_factor import SecondFactor
from doorstep.gateway.storage import SessionRepository, UserRecord, UserRepository


class AccountResets:
    """Password and second-factor resets of another account. Nobody resets their own through
    here (they change it with their current password, so a stolen session cannot), which also
    means the owner cannot lock themselves out with these."""

    def __init__(
        self,
        users: UserRepository,
        sessions: SessionRepository,
        audit: AuditLog,
        changes: AccessChanges,
        second_factor: SecondFactor,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._audit = audit
        self._changes = changes
        self._second_factor = second_factor

    async def _other(self, actor: Principal, user_id: int, what: str) -> UserRecord:
        if user_id == actor.user_id:
            raise AuthError("self_reset", f"change your own {what} in your settings instead")
        user = await self._users.by_id(user_id)
        if user is None:
            raise AuthError("no_such_user", "no such account")
        return user

    async def reset_password(
        self, actor: Principal, user_id: int, password: str, ip: str, *, must_change: bool = True
    ) -> int:
        """Set a new password the actor chose; `must_change`: the user has to pick their own
        at the next sign-in. Returns how many sessions were ended."""
        user = await self._other(actor, user_id, "password")
        try:
            check_policy(password, user.username)
        except ValueError as exc:
            raise AuthError("weak_password", str(exc)) from None
        await self._users.set_password_hash(user.id, await hash_password(password), must_change)
        revoked = await self._sessions.delete_for_user(user.id)
        self._changes.changed(user.id)
        await self._audit.append(
            actor.username, "user.password.reset", f"user:{user.id}", ip=ip,
            detail={"username": user.username, "sessions_revoked": revoked,
                    "must_change": must_change},
        )  # fmt: skip
        return revoked

    async def reset_second_factor(self, actor: Principal, user_id: int, ip: str) -> int:
        """Remove the account's authenticator and recovery codes: it signs in with its password
        alone and (owner and agency accounts) sets up a new one before anything else. Returns
        how many sessions were ended."""
        user = await self._other(actor, user_id, "second factor")
        if user.totp_secret is None and not await self._second_factor.codes_left(user.id):
            raise AuthError("no_second_factor", "that account has no second factor")
        await self._second_factor.clear(user.id)
        revoked = await self._sessions.delete_for_user(user.id)
        self._changes.changed(user.id)
        await self._audit.append(
            actor.username, "user.totp.reset", f"user:{user.id}", ip=ip,
            detail={"username": user.username, "sessions_revoked": revoked},
        )  # fmt: skip
        return revoked
