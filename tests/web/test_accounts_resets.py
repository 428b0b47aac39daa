"""The owner resets another account's password or second factor: that account's sessions end
at once, it chooses its own password (or sets up a new factor) at the next sign-in, and the
owner cannot lock themselves out this way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pyotp
from aiohttp import web

from doorstep.gateway.web.keys import DATABASE

from ..gateway_client import Client, call
from .conftest import set_up_owner

RITA = {"username": "rita", "password": "resident pass 1"}


async def _stale(app: web.Application) -> None:
    old = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    await app[DATABASE].durable.execute("UPDATE sessions SET confirmed_at = ?", (old,))


async def _owner_and_rita(
    browser: Callable[[], Awaitable[Client]],
) -> tuple[Client, pyotp.TOTP, Client, int]:
    owner = await browser()
    otp = await set_up_owner(owner)
    status, created = await call(owner, "POST", "/api/users", {**RITA, "cameras": ["garden"]})
    assert status == 201
    rita = await browser()
    assert (await call(rita, "POST", "/api/session", RITA))[0] == 200
    return owner, otp, rita, created["id"]


async def test_the_owner_resets_a_password_and_the_user_chooses_their_own(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner, otp, rita, rita_id = await _owner_and_rita(browser)
    await _stale(app)
    reset = {"password": "given by alice 1"}
    status, refused = await call(owner, "POST", f"/api/users/{rita_id}/password", reset)
    assert (status, refused["error"]) == (403, "reauth_required")
    code = otp.at(datetime.now(UTC) + timedelta(seconds=30))
    confirm = {"password": "correct horse battery", "code": code}
    assert (await call(owner, "POST", "/api/session/confirm", confirm))[0] == 200
    weak = {"password": "short"}
    status, refused = await call(owner, "POST", f"/api/users/{rita_id}/password", weak)
    assert (status, refused["error"]) == (422, "weak_password")
    assert (await call(rita, "GET", "/api/session"))[0] == 200  # nothing changed yet
    assert (await call(owner, "POST", f"/api/users/{rita_id}/password", reset))[0] == 200
    assert (await call(rita, "GET", "/api/session"))[0] == 401  # signed out at once
    assert (await call(rita, "POST", "/api/session", RITA))[0] == 401  # the old one is gone
    _, users = await call(owner, "GET", "/api/users")
    assert {u["username"]: u["must_change_password"] for u in users["users"]} == {
        "alice": False, "rita": True,
    }  # fmt: skip

    given = {"username": "rita", "password": reset["password"]}
    status, me = await call(rita, "POST", "/api/session", given)
    assert (status, me["must_change_password"]) == (200, True)
    status, refused = await call(rita, "GET", "/api/cameras")
    assert (status, refused["error"]) == (403, "password_change_required")
    same = {"old": reset["password"], "new": reset["password"]}
    status, refused = await call(rita, "POST", "/api/me/password", same)
    assert (status, refused["error"]) == (422, "weak_password")
    own = {"old": reset["password"], "new": "rita's own password"}
    assert (await call(rita, "POST", "/api/me/password", own))[0] == 200
    status, me = await call(rita, "GET", "/api/session")
    assert (status, me["must_change_password"]) == (200, False)
    status, cameras = await call(rita, "GET", "/api/cameras")
    assert (status, [c["id"] for c in cameras["cameras"]]) == (200, ["garden"])

    _, page = await call(owner, "GET", "/api/audit?action=user.password.reset")
    (row,) = page["rows"]
    assert (row["actor"], row["target"]) == ("alice", f"user:{rita_id}")
    assert row["detail"]["sessions_revoked"] == 1
    assert row["summary"].startswith("alice set a new password for rita")


async def test_the_owner_resets_another_owners_second_factor(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    bob_account = {"username": "bob", "password": "bob's long password", "role": "owner"}
    status, created = await call(owner, "POST", "/api/users", bob_account)
    assert status == 201
    bob = await browser()
    bob_login = {"username": "bob", "password": bob_account["password"]}
    assert (await call(bob, "POST", "/api/session", bob_login))[0] == 200
    _, started = await call(bob, "POST", "/api/me/totp")
    bob_otp = pyotp.TOTP(started["secret"])
    assert (await call(bob, "POST", "/api/me/totp/confirm", {"code": bob_otp.now()}))[0] == 200

    assert (await call(owner, "DELETE", f"/api/users/{created['id']}/totp"))[0] == 200
    assert (await call(bob, "GET", "/api/session"))[0] == 401
    status, me = await call(bob, "POST", "/api/session", bob_login)  # no code asked for
    assert (status, me["totp_enrolled"], me["must_enroll_totp"]) == (200, False, True)
    assert me["recovery_codes_left"] == 0
    assert (await call(bob, "GET", "/api/users"))[1]["error"] == "totp_enrollment_required"
    rows = await app[DATABASE].durable.fetchall(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?", (created["id"],)
    )
    assert rows[0][0] == 0
    status, refused = await call(owner, "DELETE", f"/api/users/{created['id']}/totp")
    assert (status, refused["error"]) == (409, "no_second_factor")
    _, page = await call(owner, "GET", "/api/audit?action=user.totp.reset")
    assert [r["summary"] for r in page["rows"]] == [
        "alice removed bob's second factor from 127.0.0.1; 1 session signed out"
    ]


async def test_the_owner_cannot_lock_themselves_out_and_others_cannot_reset(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner, _, rita, rita_id = await _owner_and_rita(browser)
    status, refused = await call(owner, "POST", "/api/users/1/password", {"password": "x" * 12})
    assert (status, refused["error"]) == (409, "self_reset")
    status, refused = await call(owner, "DELETE", "/api/users/1/totp")
    assert (status, refused["error"]) == (409, "self_reset")
    assert (await call(owner, "GET", "/api/session"))[1]["totp_enrolled"] is True
    for path in ("/api/users/99/totp", "/api/users/99999999999999/totp"):
        status, refused = await call(owner, "DELETE", path)
        assert (status, refused["error"]) == (404, "no_such_user"), path
    status, refused = await call(rita, "POST", "/api/users/1/password", {"password": "x" * 12})
    assert (status, refused["error"]) == (403, "owner_only")
    assert (await call(rita, "DELETE", "/api/users/1/totp"))[1]["error"] == "owner_only"
    status, refused = await call(owner, "DELETE", f"/api/users/{rita_id}/totp")
    assert (status, refused["error"]) == (409, "no_second_factor")  # she never had one
