"""A locked-out owner (phone lost, no recovery code at hand) gets back in from the console while
the gateway runs: `doorstep user reset-2fa`, then a sign-in with the password alone and a new
second factor before anything else."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pyotp
from aiohttp import web

from ..gateway_client import Client, call
from .conftest import OWNER_PASSWORD, set_up_owner


def doorstep(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    return subprocess.run(
        [sys.executable, "-m", "doorstep.gateway", *args], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


async def test_reset_2fa_from_the_console_while_the_gateway_runs(
    browser: Callable[[], Awaitable[Client]], app: web.Application, tmp_path: Path
) -> None:
    phone = await browser()
    await set_up_owner(phone)
    login = {"username": "alice", "password": OWNER_PASSWORD}
    laptop = await browser()
    status, refused = await call(laptop, "POST", "/api/session", login)
    assert (status, refused["error"]) == (401, "totp_required")  # and the phone is lost

    done = await asyncio.to_thread(
        doorstep, "user", "reset-2fa", "alice", "--data-dir", str(tmp_path / "data")
    )
    assert done.returncode == 0, done.stderr
    assert (await call(phone, "GET", "/api/session"))[0] == 401  # the lost phone is signed out

    status, me = await call(laptop, "POST", "/api/session", login)
    assert (status, me["must_enroll_totp"]) == (200, True)
    assert (await call(laptop, "GET", "/api/users"))[1]["error"] == "totp_enrollment_required"
    _, started = await call(laptop, "POST", "/api/me/totp")
    otp = pyotp.TOTP(started["secret"])
    status, confirmed = await call(laptop, "POST", "/api/me/totp/confirm", {"code": otp.now()})
    assert (status, len(confirmed["recovery_codes"])) == (200, 10)
    _, page = await call(laptop, "GET", "/api/audit?action=user.totp.reset")
    (row,) = page["rows"]
    assert (row["actor"], row["summary"]) == (
        "cli", "The console removed alice's second factor; 1 session signed out"
    )  # fmt: skip
