"""Accounts and sign-in: first-run setup, passwords, second factor, sessions, grants."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.audit.refusals import RefusalAudit
from doorstep.gateway.auth.devices import DeviceCookies
from doorstep.gateway.auth.errors import AuthError, SignIn, throttled, token_hash
from doorstep.gateway.auth.passwords import check_policy, hash_password, verify_password
from doorstep.gateway.auth.principal import CAMERA_ROLES, Principal
from doorstep.gateway.auth.resets import AccountResets
from doorstep.gateway.auth.revocation import AccessChanges
from doorstep.gateway.auth.second_factor import SecondFactor
from doorstep.gateway.auth.throttle import LoginThrottle, Throttled
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import (
    Conflict,
    SessionRecord,
    SessionRepository,
    UserRecord,
    UserRepository,
)

_log = logging.getLogger(__name__)

IDLE_TIMEOUT = timedelta(hours=24)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen writes are coalesced
USERNAME_MAX = 64


class AccountService:
    """Everything about accounts; every change is audited."""

    def __init__(
        self,
        users: UserRepository,
        sessions: SessionRepository,
        box: SecretBox,
        audit: AuditLog,
        refusals: RefusalAudit | None = None,
        changes: AccessChanges | None = None,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._box = box
        self._audit = audit
        self.refusals = refusals or RefusalAudit(audit)
        """Failed and throttled attempts are counted here, not written one row each."""
        self.changes = changes or AccessChanges()
        """Told of every change to an account's access, so open channels re-check at once."""
        self.throttle = LoginThrottle()
        self.devices = DeviceCookies(box.derive("known-device-cookie"))
        self.setup_token: str | None = None
        self.second_factor = SecondFactor(
            users, box, audit, self.refusals, self.throttle, self.changes
        )
        """Authenticator enrolment, recovery codes and the code check."""
        self.resets = AccountResets(users, sessions, audit, self.changes, self.second_factor)
        """The owner's (and the console's) resets of another account."""

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
        try:
            attempt = self.throttle.reserve([f"setup-ip:{ip}"])
        except Throttled as exc:
            self.refusals.record("anonymous", "setup", "throttled", ip)
            raise throttled(exc) from None
        expected = self.setup_token
        if expected is None or not secrets.compare_digest(token.encode(), expected.encode()):
            self.refusals.record("anonymous", "setup", "denied", ip)
            raise AuthError("bad_setup_token", "the setup token is wrong or was used already")
        # Taken before the first await: two set-ups sent at once cannot both create an owner.
        self.setup_token = None
        try:
            user = await self._create(username, password, "owner")
        except BaseException:
            self.setup_token = expected  # a weak password or a taken name: try again
            raise
        self.throttle.refund(attempt)
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
        except Conflict:
            raise AuthError("username_taken", "that user name is taken") from None
        except ValueError as exc:
            raise AuthError("bad_role", str(exc)) from None
        user = await self._users.by_id(user_id)
        if user is None:
            raise AuthError("internal", "the account vanished")
        return user

    async def create_user(
        self,
        actor: Principal,
        username: str,
        password: str,
        role: str,
        ip: str,
        cameras: set[str] | None = None,
    ) -> UserRecord:
        """An owner adds an account (with its camera grants: checked before it is created)."""
        if cameras:
            await self._check_grants(role, cameras)
        user = await self._create(username, password, role)
        await self._audit.append(
            actor.username, "user.create", f"user:{user.id}", ip=ip,
            detail={"role": role, "username": user.username},
        )  # fmt: skip
        if cameras:
            await self.update_user(actor, user.id, None, None, cameras, ip)
        return user

    async def _check_grants(self, role: str, cameras: set[str]) -> None:
        if role not in CAMERA_ROLES:
            raise AuthError(
                "no_grants_for_role", f"a {role} account cannot be given cameras (only residents)"
            )
        if await self._users.missing_cameras(cameras):
            raise AuthError("no_such_camera", "one of those cameras does not exist")

    async def _set_grants(self, user_id: int, role: str, cameras: set[str]) -> None:
        if cameras:
            await self._check_grants(role, cameras)
        try:
            await self._users.set_grants(user_id, cameras if role in CAMERA_ROLES else set())
        except Conflict:  # the camera was removed a moment ago
            raise AuthError("no_such_camera", "one of those cameras does not exist") from None

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
        new_role = role if role is not None else user.role
        if cameras:
            await self._check_grants(new_role, cameras)  # before anything changes
        changes: dict[str, object] = {}
        try:
            if role is not None and role != user.role:
                try:
                    await self._users.set_role(user_id, role)
                except ValueError as exc:
                    raise AuthError("bad_role", str(exc)) from None
                changes["role"] = role
                if role not in CAMERA_ROLES and await self._users.grants(user_id):
                    await self._users.set_grants(user_id, set())  # a role change drops grants
                    changes["cameras"] = []
            if disabled is not None and disabled != user.disabled:
                await self._users.set_disabled(user_id, disabled)
                changes["disabled"] = disabled
                if disabled:
                    await self._sessions.delete_for_user(user_id)
            if cameras is not None and cameras != await self._users.grants(user_id):
                await self._set_grants(user_id, new_role, cameras)
                changes["cameras"] = sorted(cameras) if new_role in CAMERA_ROLES else []
        finally:
            if changes:
                self.changes.changed(user_id)
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
        self.changes.changed(user_id)
        await self._audit.append(
            actor.username, "user.delete", f"user:{user_id}", ip=ip,
            detail={"username": user.username},
        )  # fmt: skip

    # -- sign-in ----------------------------------------------------------------------------
    def _sign_in_keys(self, username: str, ip: str, device_cookie: str | None) -> list[str]:
        # A browser that signed in before counts on its own: guessing the password elsewhere
        # (which fills the account's counter) never locks the owner's own devices out.
        name = username.strip().lower()
        device = self.devices.device_for(device_cookie, name)
        return [f"device:{device}" if device else f"user:{name}", f"ip:{ip}"]

    async def sign_in(
        self,
        username: str,
        password: str,
        code: str | None,
        ip: str,
        agent: str,
        device_cookie: str | None = None,
    ) -> SignIn:
        """Check password (and second factor); throttled per account (or known device) and per
        address. The attempt is reserved before the hash is checked, so a burst cannot pass."""
        keys = self._sign_in_keys(username, ip, device_cookie)
        try:
            attempt = self.throttle.reserve(keys)
        except Throttled as exc:
            self.refusals.record(username, "login", "throttled", ip)
            raise throttled(exc) from None
        user = await self._check_password(username.strip(), password, "login", ip)
        await self.second_factor.check(user, code, attempt, "login", ip)
        self.throttle.refund(attempt, keys[1:])  # a right password is not held against the address
        self.throttle.clear(keys[0])
        await self._audit.append(user.username, "login", ip=ip)
        signed = await self._open_session(user, ip, agent)
        return SignIn(signed.token, signed.principal, self.devices.issue(user.username))

    async def _check_password(
        self, username: str, password: str, action: str, ip: str
    ) -> UserRecord:
        user = await self._users.by_username(username)
        ok = await verify_password(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            self.refusals.record(username, action, "failed", ip)
            raise AuthError("bad_credentials", "wrong user name or password")
        return user

    async def confirm_identity(
        self, principal: Principal, password: str, code: str | None, ip: str
    ) -> None:
        """Re-enter the password (and a code, with a second factor) to make security-sensitive
        changes for a while: a stolen session alone cannot change the password, the second
        factor, users or roles. Throttled like sign-in."""
        keys = [f"confirm:{principal.user_id}", f"ip:{ip}"]
        try:
            attempt = self.throttle.reserve(keys)
        except Throttled as exc:
            self.refusals.record(principal.username, "session.confirm", "throttled", ip)
            raise throttled(exc) from None
        user = await self._users.by_id(principal.user_id)
        if user is None or user.username != principal.username:
            raise AuthError("bad_credentials", "the account changed; sign in again")
        await self._check_password(user.username, password, "session.confirm", ip)
        await self.second_factor.check(user, code, attempt, "session.confirm", ip)
        self.throttle.refund(attempt)
        await self._sessions.confirm(principal.session, datetime.now(UTC))
        await self._audit.append(principal.username, "session.confirm", ip=ip)

    async def _open_session(self, user: UserRecord, ip: str, agent: str) -> SignIn:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        record = SessionRecord(token_hash(token), user.id, now, now, ip, agent, confirmed_at=now)
        await self._sessions.add(record)
        principal = Principal(
            user.id, user.username, user.role, user.totp_secret is not None,
            await self._cameras(user.id, user.role), token_hash(token), confirmed_at=now,
            must_change_password=user.must_change_password,
        )  # fmt: skip
        return SignIn(token, principal)

    async def _cameras(self, user_id: int, role: str) -> frozenset[str] | None:
        if role == "owner":
            return None
        if role not in CAMERA_ROLES:
            return frozenset()  # whatever a row might say: these roles never see a camera
        return frozenset(await self._users.grants(user_id))

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
        if now - session.last_seen > IDLE_TIMEOUT or account.disabled:
            await self._sessions.delete(hashed)
            return None
        if now - session.last_seen > TOUCH_EVERY:
            await self._sessions.touch(hashed, now)
        role = account.role
        return Principal(
            session.user_id, account.username, role, account.enrolled,
            await self._cameras(session.user_id, role), hashed, confirmed_at=session.confirmed_at,
            must_change_password=account.must_change_password,
        )  # fmt: skip

    async def sign_out(self, principal: Principal, ip: str) -> None:
        """End the current session."""
        await self._sessions.delete(principal.session)
        self.changes.changed(principal.user_id)
        await self._audit.append(principal.username, "logout", ip=ip)

    async def change_password(self, principal: Principal, old: str, new: str, ip: str) -> None:
        """Change one's password (throttled like sign-in); every other session is revoked.
        After the owner reset it, this is where the user chooses their own (not the same)."""
        try:
            attempt = self.throttle.reserve([f"confirm:{principal.user_id}", f"ip:{ip}"])
        except Throttled as exc:
            self.refusals.record(principal.username, "user.password", "throttled", ip)
            raise throttled(exc) from None
        user = await self._users.by_id(principal.user_id)
        if user is None or not await verify_password(user.password_hash, old):
            self.refusals.record(principal.username, "user.password", "failed", ip)
            raise AuthError("bad_credentials", "the current password is wrong")
        self.throttle.refund(attempt)
        try:
            check_policy(new, user.username)
        except ValueError as exc:
            raise AuthError("weak_password", str(exc)) from None
        if user.must_change_password and new == old:
            raise AuthError("weak_password", "choose a password of your own, not the one you got")
        await self._users.set_password_hash(user.id, await hash_password(new))
        revoked = await self._sessions.delete_for_user(user.id, keep=principal.session)
        self.changes.changed(user.id)
        await self._audit.append(
            principal.username,
            "user.password",
            f"user:{user.id}",
            ip=ip,
            detail={"sessions_revoked": revoked},
        )
