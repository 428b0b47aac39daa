"""User administration API (owner only): accounts, roles and residents' camera grants."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.auth import AuthError
from doorstep.gateway.storage import UserRecord
from doorstep.gateway.web.api import Done, Schema, add_api_route
from doorstep.gateway.web.auth_api import auth_failure, body_of, principal_of
from doorstep.gateway.web.keys import ACCOUNTS
from doorstep.gateway.web.policy import Access, json_error
from doorstep.gateway.web.session import client_ip

Role = Literal["owner", "resident", "neighbour", "agency"]


class UserView(BaseModel):
    """An account as the owner sees it (no hashes, no secrets)."""

    id: int
    username: str
    role: str
    disabled: bool
    totp_enrolled: bool
    cameras: list[str]
    must_change_password: bool = Field(
        description="Its password was reset: it chooses a new one at the next sign-in."
    )


class UserList(BaseModel):
    """Every account."""

    users: list[UserView]


class NewUser(BaseModel):
    """Create an account."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: Role = "resident"
    cameras: list[str] = Field(default_factory=list, max_length=256)


class UserChange(BaseModel):
    """Change an account: role, disabled, the cameras a resident may see."""

    role: Role | None = None
    disabled: bool | None = None
    cameras: list[str] | None = Field(default=None, max_length=256)


class PasswordReset(BaseModel):
    """A new password for someone else's account; they choose their own at the next sign-in.
    Every session of that account ends."""

    password: str = Field(max_length=256)


def _view(user: UserRecord, cameras: set[str]) -> UserView:
    return UserView(
        id=user.id, username=user.username, role=user.role, disabled=user.disabled,
        totp_enrolled=user.totp_secret is not None, cameras=sorted(cameras),
        must_change_password=user.must_change_password,
    )  # fmt: skip


def _user_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # Arabic-Indic digits are digits too
        raise json_error(web.HTTPNotFound, "no_such_user", "no such account")
    return int(raw)


async def list_users(request: web.Request) -> web.Response:
    """GET /api/users."""
    users = await request.app[ACCOUNTS].list_users()
    return web.json_response(UserList(users=[_view(u, c) for u, c in users]).model_dump())


async def create_user(request: web.Request) -> web.Response:
    """POST /api/users."""
    body = await body_of(request, NewUser)
    accounts = request.app[ACCOUNTS]
    actor, ip = principal_of(request), client_ip(request)
    try:
        user = await accounts.create_user(
            actor, body.username, body.password, body.role, ip, set(body.cameras)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response(_view(user, set(body.cameras)).model_dump(), status=201)


async def change_user(request: web.Request) -> web.Response:
    """PATCH /api/users/{user_id}."""
    body = await body_of(request, UserChange)
    accounts = request.app[ACCOUNTS]
    cameras = None if body.cameras is None else set(body.cameras)
    try:
        user = await accounts.update_user(
            principal_of(request),
            _user_id(request),
            body.role,
            body.disabled,
            cameras,
            client_ip(request),
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    grants = {u.id: c for u, c in await accounts.list_users()}.get(user.id, set())
    return web.json_response(_view(user, grants).model_dump())


async def delete_user(request: web.Request) -> web.Response:
    """DELETE /api/users/{user_id}."""
    try:
        await request.app[ACCOUNTS].delete_user(
            principal_of(request), _user_id(request), client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response({"ok": True})


async def reset_password(request: web.Request) -> web.Response:
    """POST /api/users/{user_id}/password: the owner sets a new password for another account."""
    body = await body_of(request, PasswordReset)
    user_id = _user_id(request)
    try:
        await request.app[ACCOUNTS].resets.reset_password(
            principal_of(request), user_id, body.password, client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response({"ok": True})


async def reset_second_factor(request: web.Request) -> web.Response:
    """DELETE /api/users/{user_id}/totp: remove another account's authenticator and codes."""
    user_id = _user_id(request)
    try:
        await request.app[ACCOUNTS].resets.reset_second_factor(
            principal_of(request), user_id, client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response({"ok": True})


def add_reset_routes(app: web.Application, user_id: Schema) -> None:
    """The owner's resets of another account's password and second factor."""
    add_api_route(
        app, "POST", "/api/users/{user_id}/password", reset_password, access=Access.OWNER,
        reauth=True, summary="Set a new password for another account (it signs in again and "
        "chooses its own)", request=PasswordReset, response=Done,
        path_params={"user_id": user_id}, errors=(404, 409),
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/users/{user_id}/totp", reset_second_factor, access=Access.OWNER,
        reauth=True, summary="Remove another account's second factor and recovery codes",
        response=Done, path_params={"user_id": user_id}, errors=(404, 409),
    )  # fmt: skip
