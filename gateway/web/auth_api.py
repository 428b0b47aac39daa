"""Sign-in API: first-run setup, sessions, password change and the second factor."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from doorstep.gateway.auth import AuthError, Principal
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.keys import ACCOUNTS
from doorstep.gateway.web.policy import PRINCIPAL, Access, json_error
from doorstep.gateway.web.session import (
    clear_session_cookie,
    client_ip,
    device_cookie,
    set_device_cookie,
    set_session_cookie,
)

M = TypeVar("M", bound=BaseModel)
MAX_BODY = 16 * 1024


class SetupStatus(BaseModel):
    """Whether the first owner account still has to be created."""

    needed: bool


class SetupBody(BaseModel):
    """Create the first owner with the setup token shown on the gateway's console."""

    token: str = Field(max_length=128)
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


CODE_DESCRIPTION = "The authenticator app's 6 digits, or one of the account's recovery codes."


class SignInBody(BaseModel):
    """Sign in; `code` is needed when the account has a second factor."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    code: str | None = Field(default=None, max_length=32, description=CODE_DESCRIPTION)


class Me(BaseModel):
    """The signed-in account."""

    user_id: int
    username: str
    role: str
    totp_enrolled: bool
    must_enroll_totp: bool
    cameras: list[str] | None = Field(description="Cameras this account may see; null means all.")
    must_change_password: bool = Field(
        description="The owner reset the password: choose a new one (POST /api/me/password) "
        "before anything else."
    )
    recovery_codes_left: int = Field(
        description="Unused recovery codes (0 without a second factor)."
    )


class PasswordBody(BaseModel):
    """Change one's own password (other sessions are signed out)."""

    old: str = Field(max_length=256)
    new: str = Field(max_length=256)


class TotpStart(BaseModel):
    """A new second-factor secret: show the QR code, or the secret to type in."""

    secret: str
    uri: str
    qr_svg: str = Field(description="The URI as a QR code: SVG markup made by the gateway.")
    qr_data_uri: str = Field(description="The same QR code as a data: URI for an <img>.")


class ConfirmBody(BaseModel):
    """Re-enter the password (and a code with a second factor) before a security-sensitive
    change: users, roles, the second factor."""

    password: str = Field(max_length=256)
    code: str | None = Field(default=None, max_length=32, description=CODE_DESCRIPTION)


class TotpConfirm(BaseModel):
    """A code from the new secret, to switch the second factor on."""

    code: str = Field(max_length=16)


class TotpConfirmed(BaseModel):
    """The second factor is on; the recovery codes are shown this once (only hashes are kept)."""

    ok: Literal[True]
    recovery_codes: list[str] = Field(
        description="One-time codes to sign in with when the phone is gone; each works once."
    )


class RecoveryCodes(BaseModel):
    """A new set of recovery codes, shown this once; the previous set no longer works."""

    recovery_codes: list[str]


BODY_TIMEOUT_S = 10.0
"""A body that takes longer than this to arrive is refused (a slow-body attack holds a socket)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key[:40]!r}")
        seen[key] = value
    return seen


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys (which would hide what a request says), no NaN."""
    try:
        return json.loads(
            raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants
        )
    except RecursionError:  # thousands of `[`: the parser's recursion, not a bug of ours
        raise ValueError("nested too deeply") from None


async def json_of(request: web.Request, limit: int = MAX_BODY) -> tuple[bytes, Any]:
    """A JSON body of at most `limit` bytes, as received and parsed, or 408/413/422."""
    too_large = json_error(web.HTTPRequestEntityTooLarge, "too_large", "request body too large")
    if (request.content_length or 0) > limit:
        raise too_large
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            # aiohttp stops at client_max_size; a chunked body has no length to check first.
            raw = await request.read()
    except TimeoutError:
        raise json_error(
            web.HTTPRequestTimeout, "too_slow", "the request body took too long"
        ) from None
    if len(raw) > limit:
        raise too_large
    try:
        return raw, parse_json(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise json_error(web.HTTPUnprocessableEntity, "invalid", f"body: {reason}") from None


async def body_of(request: web.Request, model: type[M], limit: int = MAX_BODY) -> M:
    """Parse a JSON body of at most `limit` bytes into `model`, or answer 408/413/422 with the
    reason."""
    _, data = await json_of(request, limit)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "body"
        raise json_error(
            web.HTTPUnprocessableEntity, "invalid", f"{where}: {first['msg']}"
        ) from None


def principal_of(request: web.Request) -> Principal:
    """The signed-in caller (the access middleware guarantees one on non-public routes)."""
    return request[PRINCIPAL]


def me_view(principal: Principal, recovery_codes_left: int = 0) -> Me:
    """The account as the UI sees it."""
    return Me(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role,
        totp_enrolled=principal.totp_enrolled,
        must_enroll_totp=principal.must_enroll_totp,
        cameras=None if principal.cameras is None else sorted(principal.cameras),
        must_change_password=principal.must_change_password,
        recovery_codes_left=recovery_codes_left,
    )


async def me_now(request: web.Request, principal: Principal) -> Me:
    """The account with its count of recovery codes (one query: not on every request)."""
    left = 0
    if principal.totp_enrolled:
        left = await request.app[ACCOUNTS].second_factor.codes_left(principal.user_id)
    return me_view(principal, left)


def auth_failure(error: AuthError) -> web.HTTPException:
    """The HTTP answer for a refused account operation."""
    if error.code == "throttled":
        return json_error(
            web.HTTPTooManyRequests, error.code, str(error), {"Retry-After": str(error.retry_after)}
        )
    status = {
        "no_grants_for_role": web.HTTPUnprocessableEntity,
        "bad_credentials": web.HTTPUnauthorized,
        "totp_required": web.HTTPUnauthorized,
        "bad_totp": web.HTTPUnauthorized,
        "bad_setup_token": web.HTTPForbidden,
        "username_taken": web.HTTPConflict,
        "no_such_user": web.HTTPNotFound,
        "self_reset": web.HTTPConflict,
        "no_second_factor": web.HTTPConflict,
    }.get(error.code, web.HTTPUnprocessableEntity)
    return json_error(status, error.code, str(error))


async def get_setup(request: web.Request) -> web.Response:
    """GET /api/setup."""
    return web.json_response(SetupStatus(needed=request.app[ACCOUNTS].needs_setup).model_dump())


async def post_setup(request: web.Request) -> web.Response:
    """POST /api/setup: create the first owner and sign in."""
    body = await body_of(request, SetupBody)
    try:
        signed = await request.app[ACCOUNTS].setup(
            body.token, body.username, body.password, client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    response = web.json_response(me_view(signed.principal).model_dump(), status=201)
    set_session_cookie(request, response, signed.token)
    return response


async def sign_in(request: web.Request) -> web.Response:
    """POST /api/session."""
    body = await body_of(request, SignInBody)
    try:
        signed = await request.app[ACCOUNTS].sign_in(
            body.username,
            body.password,
            body.code,
            client_ip(request),
            request.headers.get("User-Agent", ""),
            device_cookie(request),
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    response = web.json_response((await me_now(request, signed.principal)).model_dump())
    set_session_cookie(request, response, signed.token)
    set_device_cookie(request, response, signed.device_cookie)
    return response


async def confirm_identity(request: web.Request) -> web.Response:
    """POST /api/session/confirm: re-enter the password for security-sensitive changes."""
    body = await body_of(request, ConfirmBody)
    try:
        await request.app[ACCOUNTS].confirm_identity(
            principal_of(request), body.password, body.code, client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response({"ok": True})


async def who_am_i(request: web.Request) -> web.Response:
    """GET /api/session."""
    return web.json_response((await me_now(request, principal_of(request))).model_dump())


async def sign_out(request: web.Request) -> web.Response:
    """DELETE /api/session."""
    await request.app[ACCOUNTS].sign_out(principal_of(request), client_ip(request))
    response = web.json_response({"ok": True})
    clear_session_cookie(request, response)
    return response


async def change_password(request: web.Request) -> web.Response:
    """POST /api/me/password."""
    body = await body_of(request, PasswordBody)
    try:
        await request.app[ACCOUNTS].change_password(
            principal_of(request), body.old, body.new, client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response({"ok": True})


async def start_totp(request: web.Request) -> web.Response:
    """POST /api/me/totp."""
    setup = await request.app[ACCOUNTS].second_factor.begin(principal_of(request))
    view = TotpStart(
        secret=setup.secret, uri=setup.uri, qr_svg=setup.qr_svg, qr_data_uri=setup.qr_data_uri
    )
    return web.json_response(view.model_dump())


async def confirm_totp(request: web.Request) -> web.Response:
    """POST /api/me/totp/confirm."""
    body = await body_of(request, TotpConfirm)
    try:
        codes = await request.app[ACCOUNTS].second_factor.confirm(
            principal_of(request), body.code, client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response(TotpConfirmed(ok=True, recovery_codes=codes).model_dump())


async def new_recovery_codes(request: web.Request) -> web.Response:
    """POST /api/me/recovery-codes: a new set (the old one stops working)."""
    try:
        codes = await request.app[ACCOUNTS].second_factor.new_recovery_codes(
            principal_of(request), client_ip(request)
        )
    except AuthError as exc:
        raise auth_failure(exc) from None
    return web.json_response(RecoveryCodes(recovery_codes=codes).model_dump())


def add_recovery_code_routes(app: web.Application) -> None:
    """POST /api/me/recovery-codes (the rest of the second factor's routes are in server.py)."""
    add_api_route(
        app, "POST", "/api/me/recovery-codes", new_recovery_codes, access=Access.SIGNED_IN,
        reauth=True, summary="Make a new set of recovery codes (the old set stops working)",
        response=RecoveryCodes, errors=(409,),
    )  # fmt: skip
