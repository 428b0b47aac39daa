"""Accounts through the real API: first run, second factor, roles, throttling, sessions, audit."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from aiohttp import web

from doorstep.gateway.auth.throttle import LoginThrottle
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT
from doorstep.gateway.web.policy import POLICIES, Access

from ..gateway_client import SAME_ORIGIN, Client, call
from .conftest import OWNER_PASSWORD, set_up_owner


async def test_first_run_needs_the_console_token(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    assert await call(client, "GET", "/api/setup") == (200, {"needed": True})
    status, body = await call(
        client,
        "POST",
        "/api/setup",
        {"token": "guess", "username": "mallory", "password": "x" * 12},
    )
    assert (status, body["error"]) == (403, "bad_setup_token")
    token = app[ACCOUNTS].setup_token
    async with client.post(
        "/api/setup",
        json={"token": token, "username": "alice", "password": OWNER_PASSWORD},
        headers=SAME_ORIGIN,
    ) as response:
        assert response.status == 201
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert await call(client, "GET", "/api/setup") == (200, {"needed": False})
    status, body = await call(
        client,
        "POST",
        "/api/setup",
        {"token": token, "username": "bob", "password": OWNER_PASSWORD},
    )
    assert status == 403  # the token is single-use


async def test_every_non_public_route_refuses_anonymous_callers(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    checked = 0
    for (method, path), access in app[POLICIES].items():
        if access is Access.PUBLIC or method == "HEAD":
            continue
        concrete = re.sub(r"\{\w+\}", "1", path)
        status, _ = await call(client, method, concrete)
        assert status == 401, (method, path)
        checked += 1
    assert checked >= 14


async def test_owner_must_enroll_a_second_factor_first(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    token = app[ACCOUNTS].setup_token
    await call(
        client,
        "POST",
        "/api/setup",
        {"token": token, "username": "alice", "password": OWNER_PASSWORD},
    )
    status, body = await call(client, "GET", "/api/users")
    assert (status, body["error"]) == (403, "totp_enrollment_required")
    status, started = await call(client, "POST", "/api/me/totp")
    status, body = await call(client, "POST", "/api/me/totp/confirm", {"code": "000000"})
    assert status == 401
    otp = pyotp.TOTP(started["secret"])
    assert (await call(client, "POST", "/api/me/totp/confirm", {"code": otp.now()}))[0] == 200
    assert (await call(client, "GET", "/api/users"))[0] == 200


async def test_sign_in_with_second_factor_and_replay(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    otp = await set_up_owner(client)
    assert (await call(client, "DELETE", "/api/session"))[0] == 200
    assert (await call(client, "GET", "/api/session"))[0] == 401
    status, body = await call(
        client, "POST", "/api/session", {"username": "alice", "password": OWNER_PASSWORD}
    )
    assert (status, body["error"]) == (401, "totp_required")
    code = otp.at(int(time.time()) + 30)  # the next step: the one used at enrolment is spent
    status, me = await call(
        client,
        "POST",
        "/api/session",
        {"username": "alice", "password": OWNER_PASSWORD, "code": code},
    )
    assert status == 200
    assert me["role"] == "owner"
    status, body = await call(
        client,
        "POST",
        "/api/session",
        {"username": "alice", "password": OWNER_PASSWORD, "code": code},
    )
    assert (status, body["error"]) == (401, "bad_totp")  # a code works once


async def test_resident_sees_only_what_is_granted(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    status, created = await call(
        owner,
        "POST",
        "/api/users",
        {
            "username": "rita",
            "password": "resident pass 1",
            "role": "resident",
            "cameras": ["garden"],
        },
    )
    assert status == 201
    assert created["cameras"] == ["garden"]
    resident = await browser()
    status, me = await call(
        resident, "POST", "/api/session", {"username": "rita", "password": "resident pass 1"}
    )
    assert (status, me["cameras"], me["must_enroll_totp"]) == (200, ["garden"], False)
    for path in ("/api/users", "/api/audit", "/api/audit/verify", "/api/discovery"):
        status, body = await call(resident, "GET", path)
        assert (status, body["error"]) == (403, "owner_only"), path
    assert (await call(resident, "POST", "/api/users", {"username": "x", "password": "y" * 12}))[
        0
    ] == 403
    status, cameras = await call(resident, "GET", "/api/cameras")
    assert (status, [c["id"] for c in cameras["cameras"]]) == (200, ["garden"])
    assert (await call(resident, "GET", "/api/cameras/front/snapshot"))[0] == 404


async def test_sign_in_is_throttled(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    await set_up_owner(client)
    statuses = []
    for _ in range(7):
        async with client.post(
            "/api/session",
            json={"username": "alice", "password": "wrong one!!"},
            headers=SAME_ORIGIN,
        ) as response:
            statuses.append(response.status)
            retry_after = response.headers.get("Retry-After")
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    assert retry_after is not None
    assert 0 < int(retry_after) <= 60


def test_throttle_windows_expire_so_nobody_is_locked_out_for_good() -> None:
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    keys = ["user:alice", "ip:192.0.2.1"]
    for _ in range(5):
        throttle.failed(keys)
    assert 0 < throttle.retry_after(keys) <= 60
    now[0] += 61
    assert throttle.retry_after(keys) == 0
    for _ in range(15):
        throttle.failed(keys)
        now[0] += 61
    assert throttle.retry_after(keys) > 60  # 20 in the hour: wait for the hour window
    now[0] += 3600
    assert throttle.retry_after(keys) == 0


async def test_password_change_revokes_other_sessions(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    first = await browser()
    otp = await set_up_owner(first)
    second = await browser()
    code = otp.at(int(time.time()) + 30)
    assert (
        await call(
            second,
            "POST",
            "/api/session",
            {"username": "alice", "password": OWNER_PASSWORD, "code": code},
        )
    )[0] == 200
    assert (await call(second, "GET", "/api/session"))[0] == 200
    status, _ = await call(
        first, "POST", "/api/me/password", {"old": OWNER_PASSWORD, "new": "a new long password"}
    )
    assert status == 200
    assert (await call(second, "GET", "/api/session"))[0] == 401  # revoked
    assert (await call(first, "GET", "/api/session"))[0] == 200  # the one that changed it stays


async def test_cross_site_posts_change_nothing(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    client = await browser()
    await set_up_owner(client)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}):
        async with client.post(
            "/api/users", json={"username": "eve", "password": "x" * 12}, headers=headers
        ) as response:
            assert response.status == 403
    async with client.post(
        "/api/users", data={"username": "eve", "password": "x" * 12}, headers=SAME_ORIGIN
    ) as response:
        assert response.status == 415  # a form post
    _, users = await call(client, "GET", "/api/users")
    assert [u["username"] for u in users["users"]] == ["alice"]


async def test_audit_rows_and_tamper_detection(
    browser: Callable[[], Awaitable[Client]], app: web.Application, tmp_path: Path
) -> None:
    client = await browser()
    await set_up_owner(client)
    await call(client, "POST", "/api/users", {"username": "rita", "password": "resident pass 1"})
    anonymous = await browser()
    await call(anonymous, "GET", "/api/users")
    await call(
        anonymous, "POST", "/api/session", {"username": "rita", "password": "wrong password"}
    )
    _, page = await call(client, "GET", "/api/audit?limit=50")
    actions = [(r["action"], r["outcome"]) for r in page["rows"]]
    for expected in (
        ("setup", "ok"),
        ("user.totp", "ok"),
        ("user.create", "ok"),
        ("access.denied", "401"),
        ("login", "failed"),
    ):
        assert expected in actions, expected
    assert (await call(client, "GET", "/api/audit/verify"))[1]["ok"] is True
    database = tmp_path / "data" / "doorstep.db"
    cli = [
        sys.executable,
        "-m",
        "doorstep.gateway",
        "audit",
        "verify",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    verified = await asyncio.to_thread(
        subprocess.run, cli, capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout
    conn = sqlite3.connect(database)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 2")
    # Someone with the file and sqlite3 drops the trigger and edits a row: the chain tells.
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 2")
    conn.commit()
    conn.close()
    verification = (await call(client, "GET", "/api/audit/verify"))[1]
    assert verification["ok"] is False
    assert verification["first_bad_seq"] == 2
    assert verification["reason"] == "row 2: its content was changed"
    tampered = await asyncio.to_thread(
        subprocess.run, cli, capture_output=True, text=True, check=False
    )
    assert tampered.returncode == 1
    assert "BROKEN" in tampered.stdout
    assert "first bad row: 2: row 2: its content was changed" in tampered.stdout
    assert app[AUDIT] is not None


def test_user_add_command_creates_an_owner(tmp_path: Path) -> None:
    cli = [
        sys.executable,
        "-m",
        "doorstep.gateway",
        "user",
        "add",
        "olga",
        "--role",
        "owner",
        "--data-dir",
        str(tmp_path),
    ]
    made = subprocess.run(
        cli,
        capture_output=True,
        text=True,
        env={"DOORSTEP_PASSWORD": "olga's password", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert "created owner 'olga'" in made.stdout
    weak = subprocess.run(
        [*cli[:5], "pat", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env={"DOORSTEP_PASSWORD": "short", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert weak.returncode == 1
    assert "10 to 256 characters" in weak.stderr


async def test_an_oversized_body_is_a_413_with_a_reason(
    browser: Callable[[], Awaitable[Client]],
) -> None:
    client = await browser()
    padding = "x" * (20 * 1024)
    status, body = await call(
        client, "POST", "/api/session", {"username": "alice", "password": padding}
    )
    assert (status, body) == (413, {"error": "too_large", "reason": "request body too large"})

    # Sent in chunks, with no Content-Length to refuse it by: refused all the same.
    async def chunks() -> Any:
        yield b'{"username": "alice", "password": "'
        yield padding.encode()
        yield b'"}'

    async with client.post(
        "/api/session", data=chunks(), headers={**SAME_ORIGIN, "Content-Type": "application/json"}
    ) as response:
        assert response.status == 413
        assert (await response.json())["error"] == "too_large"
    assert (await call(client, "GET", "/api/health"))[0] == 200  # and the gateway goes on
