"""The second factor as a homeowner meets it: a QR code to scan, one-time recovery codes shown
once, each working once at sign-in, throttled like the authenticator's codes under a burst."""

from __future__ import annotations

import asyncio
import base64
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from aiohttp import web

from doorstep.gateway.auth.throttle import PER_MINUTE
from doorstep.gateway.web.keys import ACCOUNTS, DATABASE

from ..gateway_client import Client, call
from .conftest import OWNER_PASSWORD, from_address, post_json

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


async def enrolled_owner(client: Client) -> tuple[pyotp.TOTP, list[str]]:
    """First run and the owner's second factor; the recovery codes shown at confirmation."""
    token = client.app[ACCOUNTS].setup_token
    body = {"token": token, "username": "alice", "password": OWNER_PASSWORD}
    assert (await call(client, "POST", "/api/setup", body))[0] == 201
    status, started = await call(client, "POST", "/api/me/totp")
    assert status == 200
    otp = pyotp.TOTP(started["secret"])
    status, confirmed = await call(client, "POST", "/api/me/totp/confirm", {"code": otp.now()})
    assert (status, confirmed["ok"]) == (200, True)
    return otp, confirmed["recovery_codes"]


async def sign_in(client: Client, code: str | None) -> tuple[int, dict[str, object]]:
    body = {"username": "alice", "password": OWNER_PASSWORD, "code": code}
    status, answer = await call(client, "POST", "/api/session", body)
    return status, answer


async def _stale(app: web.Application) -> None:
    old = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    await app[DATABASE].durable.execute("UPDATE sessions SET confirmed_at = ?", (old,))


async def test_setting_up_the_second_factor_shows_a_qr_code_of_the_uri(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    token = app[ACCOUNTS].setup_token
    body = {"token": token, "username": "alice", "password": OWNER_PASSWORD}
    assert (await call(client, "POST", "/api/setup", body))[0] == 201
    status, started = await call(client, "POST", "/api/me/totp")
    assert status == 200
    assert started["uri"].startswith("otpauth://totp/Doorstep:alice?secret=")
    # The QR code is of that URI (not of something else), as markup and as an <img> source.
    expected = segno.make(started["uri"], error="m").svg_inline(
        scale=4, omitsize=True, light="#fff"
    )
    assert started["qr_svg"] == expected
    prefix = "data:image/svg+xml;base64,"
    assert started["qr_data_uri"].startswith(prefix)
    image = base64.b64decode(started["qr_data_uri"][len(prefix) :]).decode()
    assert image.startswith('<svg xmlns="http://www.w3.org/2000/svg"')  # an <img> needs it
    path = re.search(r'<path class="qrline"[^>]*d="([^"]+)"', expected)
    assert path is not None
    assert path.group(1) in image


async def test_recovery_codes_are_shown_once_stored_hashed_and_work_once(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    _, codes = await enrolled_owner(client)
    assert len(set(codes)) == len(codes) == 10
    assert all(CODE.match(code) for code in codes), codes
    assert (await call(client, "GET", "/api/session"))[1]["recovery_codes_left"] == 10
    stored = await app[DATABASE].durable.fetchall("SELECT code_hash FROM recovery_codes")
    assert len(stored) == 10
    plain = {c.replace("-", "") for c in codes}
    assert not plain & {row[0] for row in stored}  # hashes only
    assert (await call(client, "DELETE", "/api/session"))[0] == 200

    # Typed loosely (lower case, spaces instead of dashes): it signs in, once.
    typed = codes[3].lower().replace("-", " ")
    status, me = await sign_in(client, typed)
    assert (status, me["recovery_codes_left"]) == (200, 9)
    assert (await call(client, "DELETE", "/api/session"))[0] == 200
    status, refused = await sign_in(client, codes[3])
    assert (status, refused["error"]) == (401, "bad_totp")
    status, refused = await sign_in(client, "ABCD-EFGH-JKMN-PQRS")  # not one of them
    assert (status, refused["error"]) == (401, "bad_totp")
    status, me = await sign_in(client, codes[4])
    assert (status, me["recovery_codes_left"]) == (200, 8)
    _, page = await call(client, "GET", "/api/audit?action=user.recovery_codes.use")
    assert [r["detail"]["left"] for r in page["rows"]] == [8, 9]
    _, page = await call(client, "GET", "/api/audit?action=login")
    outcomes = Counter(r["outcome"] for r in page["rows"])
    assert outcomes["failed_recovery_code"] == 1  # one row counting both wrong codes
    assert [r["detail"]["count"] for r in page["rows"] if r["outcome"] != "ok"] == [2]


async def test_a_new_set_needs_the_password_again_and_retires_the_old_one(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    otp, old = await enrolled_owner(client)
    await _stale(app)
    status, refused = await call(client, "POST", "/api/me/recovery-codes")
    assert (status, refused["error"]) == (403, "reauth_required")
    code = otp.at(datetime.now(UTC) + timedelta(seconds=30))
    confirm = {"password": OWNER_PASSWORD, "code": code}
    assert (await call(client, "POST", "/api/session/confirm", confirm))[0] == 200
    status, fresh = await call(client, "POST", "/api/me/recovery-codes")
    assert status == 200
    assert len(fresh["recovery_codes"]) == 10
    assert not set(fresh["recovery_codes"]) & set(old)
    _, page = await call(client, "GET", "/api/audit?action=user.recovery_codes.new")
    assert [r["actor"] for r in page["rows"]] == ["alice"]
    assert (await call(client, "DELETE", "/api/session"))[0] == 200
    assert (await sign_in(client, old[0]))[0] == 401
    assert (await sign_in(client, fresh["recovery_codes"][0]))[0] == 200


async def test_an_account_without_a_second_factor_has_no_codes_to_renew(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await enrolled_owner(owner)
    body = {"username": "rita", "password": "resident pass 1"}
    assert (await call(owner, "POST", "/api/users", body))[0] == 201
    resident = await browser()
    status, me = await call(resident, "POST", "/api/session", body)
    assert (status, me["recovery_codes_left"], me["must_change_password"]) == (200, 0, False)
    status, refused = await call(resident, "POST", "/api/me/recovery-codes")
    assert (status, refused["error"]) == (409, "no_second_factor")


async def test_a_burst_of_wrong_recovery_codes_evaluates_at_most_the_limit(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await enrolled_owner(owner)
    url = str(owner.make_url("/"))
    # The attacker knows the password and guesses recovery codes, all at once.
    guesses = [f"{n:04d}-0000-0000-0000" for n in range(300)]
    bodies = [{"username": "alice", "password": OWNER_PASSWORD, "code": g} for g in guesses]
    async with from_address(url, "127.0.0.30") as attacker:
        results = await asyncio.gather(*(post_json(attacker, "/api/session", b) for b in bodies))
    statuses = Counter(status for status, _ in results)
    assert statuses[200] == 0
    assert statuses[401] <= PER_MINUTE, statuses
    assert statuses[429] == len(guesses) - statuses[401]


async def test_one_recovery_code_sent_at_once_from_several_places_signs_in_once(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    _, codes = await enrolled_owner(owner)
    url = str(owner.make_url("/"))
    body = {"username": "alice", "password": OWNER_PASSWORD, "code": codes[0]}
    sessions = [from_address(url, f"127.0.0.{40 + n}") for n in range(PER_MINUTE)]
    try:
        results = await asyncio.gather(*(post_json(s, "/api/session", body) for s in sessions))
    finally:
        for session in sessions:
            await session.close()
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({200: 1, 401: PER_MINUTE - 1}), statuses
    left = await app[ACCOUNTS].second_factor.codes_left(1)
    assert left == 9
