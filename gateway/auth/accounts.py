"""Accounts and sign-in: first-run setup, passwords, second factor, sessions, grants."""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..audit import AuditLog
from ..secretbox import SecretBox
from ..storage import SessionRecord, SessionRepository, UserRecord, UserRepository
from . import totp
from .passwords import check_policy, hash_password, verify_password
from .principal import Principal
from .throttle import LoginThrottle

_log = logging.getLogger(__name__)

IDLE_TIMEOUT = timedelta(hours=24)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen writes are coalesced
PENDING_TOTP_TTL = timedelta(minutes=10)
USERNAME_MAX = 64


class AuthError(Exception):
    """A sign-in or account operation was refused; `code` is stable for the UI."""

    def __init__(self, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


def token_hash(token: str) -> str:
    """What is stored for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignIn:
    """A new session: the cookie value and who it belongs to."""

    token: str
    principal: Principal


class AccountService:
    """Everything about accounts; every change is audited."""

    def __init__(
        self, users: UserRepository, sessions: SessionRepository, box: SecretBox, audit: AuditLog
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._box = box
        self._audit = audit
        self.throttle = LoginThrottle()
        self.setup_token: str | None = None
        self._pending_totp: dict[int, tuple[str, datetime]] = {}

    # -- first run --------------------------------------------------------------------------
    async def prepare_setup(self) -> str | None:
        """A one-time setup token if no owner exists yet (printed on the console, not served)."""
        if await self._users.count_role("owner") == 0:
            self.setup_token = secrets.token_urlsafe(12)
        else:
            self.setup_token = None
        return self.setup_token

    @property
    def needs_setup(self) -> bool:
        """True until the first owner account exists."""
        return self.setup_token is not None

    async def setup(self, token: str, username: str, password: str, ip: str) -> SignIn:
        """Create the first owner with the console's setup token, and sign them in."""
        expected = self.setup_token
        if expected is None or not secrets.compare_digest(token.encode(), expected.encode()):
            await self._audit.append("anonymous", "setup", outcome="denied", ip=ip)
            raise AuthError("bad_setup_token", "the setup token is wrong or was used already")
        user = await self._create(username, password, "owner")
        self.setup_token = None
        await self._audit.append(username, "setup", target=f"user:{user.id}", ip=ip)
        return await self._open_session(user, ip, "")

    # -- users ------------------------------------------------------------------------------
    async def _create(self, username: str, password: str, role: str) -> UserRecord:
        username = username.strip()
        if not 1 <= len(username) <= USERNAME_MAX or not username.isprintable():
            raise AuthError(
                "bad_username", f"a user name needs 1 to {USERNAME_MAX} printable characters"
            )
        try:
            check_policy(password, username)
        except ValueError as exc:
            raise AuthError("weak_password", str(exc)) from None
        try:
            user_id = await self._users.add(
                username, await hash_password(password), role, datetime.now(UTC)
            )
        except sqlite3.IntegrityError:
            raise AuthError("username_taken", "that user name is taken") from None
        except ValueError as exc:
            raise AuthError("bad_role", str(exc)) from None
        user = await self._users.by_id(user_id)
        if user is None:
            raise AuthError("internal", "the account vanished")
        return user

    async def create_user(
        self, actor: Principal, username: str, password: str, role: str, ip: str
    ) -> UserRecord:
        """An owner adds an account."""
        user = await self._create(username, password, role)
        await self._audit.append(
            actor.username, "user.create", f"user:{user.id}", ip=ip, detail={"role": role}
        )
        return user

    async def list_users(self) -> list[tuple[UserRecord, set[str]]]:
        """Every account with its camera grants."""
        return [(u, await self._users.grants(u.id)) for u in await self._users.list()]

    async def update_user(
        self, actor: Principal, user_id: int, role: str | None, disabled: bool | None,
        cameras: set[str] | None, ip: str,
    ) -> UserRecord:  # fmt: skip
        """Change role, disable/enable, or grant cameras; disabling ends the user's sessions."""
        user = await self._users.by_id(user_id)
        if user is None:
            raise AuthError("no_such_user", "no such account")
        removing_owner = user.role == "owner" and (
            disabled or (role is not None and role != "owner")
        )
        if removing_owner and await self._users.count_role("owner") <= 1:
            raise AuthError("last_owner", "the last owner cannot be demoted or disabled")
        changes: dict[str, object] = {}
        if role is not None and role != user.role:
            try:
                await self._users.set_role(user_id, role)
            except ValueError as exc:
                raise AuthError("bad_role", str(exc)) from None
            changes["role"] = role
        if disabled is not None and disabled != user.disabled:
            await self._users.set_disabled(user_id, disabled)
            changes["disabled"] = disabled
            if disabled:
                await self._sessions.delete_for_user(user_id)
        if cameras is not None:
            await self._users.set_grants(user_id, cameras)
            changes["cameras"] = sorted(cameras)
        if changes:
            await self._audit.append(
                actor.username, "user.update", f"user:{user_id}", ip=ip, detail=changes
            )
        updated = await self._users.by_id(user_id)
        assert updated is not None  # noqa: S101  # it existed a moment ago and deletes are audited
        return updated

    async def delete_user(self, actor: Principal, user_id: int, ip: str) -> None:
        """Remove an account (never the last owner, never yourself)."""
        user = await self._users.by_id(user_id)
        if user is None:
            raise AuthError("no_such_user", "no such account")
        if user_id == actor.user_id:
            raise AuthError("self_delete", "you cannot delete your own account")
        if user.role == "owner" and await self._users.count_role("owner") <= 1:
            raise AuthError("last_owner", "the last owner cannot be deleted")
        await self._users.delete(user_id)
        await self._audit.append(actor.username, "user.delete", f"user:{user_id}", ip=ip)

    # -- sign-in ----------------------------------------------------------------------------
    async def sign_in(
        self, username: str, password: str, code: str | None, ip: str, agent: str
    ) -> SignIn:
        """Check password (and second factor); throttled per account and per address."""
        keys = [f"user:{username.strip().lower()}", f"ip:{ip}"]
        wait = self.throttle.retry_after(keys)
        if wait:
            await self._audit.append(username[:64], "login", outcome="throttled", ip=ip)
            raise AuthError("throttled", "too many attempts; wait and try again", wait)
        user = await self._users.by_username(username.strip())
        ok = await verify_password(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            self.throttle.failed(keys)
            await self._audit.append(username[:64], "login", outcome="failed", ip=ip)
            raise AuthError("bad_credentials", "wrong user name or password")
        if user.totp_secret is not None:
            if not code:
                raise AuthError("totp_required", "enter the code from your authenticator app")
            step = totp.matching_step(self._box.open(user.totp_secret), code)
            if step is None or not await self._users.use_totp_step(user.id, step):
                self.throttle.failed(keys)
                await self._audit.append(user.username, "login", outcome="failed_totp", ip=ip)
                raise AuthError("bad_totp", "that code is wrong or was used already")
        self.throttle.succeeded(keys[0])
        await self._audit.append(user.username, "login", ip=ip)
        return await self._open_session(user, ip, agent)

    async def _open_session(self, user: UserRecord, ip: str, agent: str) -> SignIn:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await self._sessions.add(SessionRecord(token_hash(token), user.id, now, now, ip, agent))
        return SignIn(token, await self._principal(user, token_hash(token)))

    async def _principal(self, user: UserRecord, session: str) -> Principal:
        cameras = None if user.role == "owner" else frozenset(await self._users.grants(user.id))
        return Principal(
            user.id, user.username, user.role, user.totp_secret is not None, cameras, session
        )

    async def principal_for(self, token: str) -> Principal | None:
        """The account behind a session cookie, if the session is live."""
        if not token or len(token) > 128:
            return None
        hashed = token_hash(token)
        found = await self._sessions.get_with_account(hashed)
        if found is None:
            return None
        session, account = found
        now = datetime.now(UTC)
        if now - session.last_seen > IDLE_TIMEOUT or account["disabled"]:
            await self._sessions.delete(hashed)
            return None
        if now - session.last_seen > TOUCH_EVERY:
            await self._sessions.touch(hashed, now)
        role = account["role"]
        cameras = None if role == "owner" else frozenset(await self._users.grants(session.user_id))
        return Principal(
            session.user_id, account["username"], role, bool(account["enrolled"]), cameras, hashed
        )

    async def sign_out(self, principal: Principal, ip: str) -> None:
        """End the current session."""
        await self._sessions.delete(principal.session)
        await self._audit.append(principal.username, "logout", ip=ip)

    async def change_password(self, principal: Principal, old: str, new: str, ip: str) -> None:
        """Change one's password; every other session of the account is revoked."""
        user = await self._users.by_id(principal.user_id)
        if user is None or not await verify_password(user.password_hash, old):
            await self._audit.append(principal.username, "user.password", outcome="failed", ip=ip)
            raise AuthError("bad_credentials", "the current password is wrong")
        try:
            check_policy(new, user.username)
        except ValueError as exc:
            raise AuthError("weak_password", str(exc)) from None
        await self._users.set_password_hash(user.id, await hash_password(new))
        revoked = await self._sessions.delete_for_user(user.id, keep=principal.session)
        await self._audit.append(
            principal.username,
            "user.password",
            f"user:{user.id}",
            ip=ip,
            detail={"sessions_revoked": revoked},
        )

    # -- second factor ----------------------------------------------------------------------
    async def begin_totp(self, principal: Principal) -> tuple[str, str]:
        """A new secret and its otpauth URI; it takes effect once a code from it is confirmed."""
        secret = totp.new_secret()
        self._pending_totp[principal.user_id] = (secret, datetime.now(UTC) + PENDING_TOTP_TTL)
        return secret, totp.provisioning_uri(secret, principal.username)

    async def confirm_totp(self, principal: Principal, code: str, ip: str) -> None:
        """Turn the second factor on after a correct code from the new secret."""
        pending = self._pending_totp.get(principal.user_id)
        if pending is None or pending[1] < datetime.now(UTC):
            raise AuthError("no_pending_totp", "start the set-up again")
        step = totp.matching_step(pending[0], code)
        if step is None:
            raise AuthError("bad_totp", "that code does not match; check the phone's clock")
        await self._users.set_totp(principal.user_id, self._box.seal(pending[0]))
        await self._users.use_totp_step(principal.user_id, step)
        del self._pending_totp[principal.user_id]
        await self._audit.append(
            principal.username, "user.totp", f"user:{principal.user_id}", ip=ip
        )
