"""`doorstep user reset-2fa` and `doorstep user set-password`: a locked-out owner's way back in,
working on the data directory, ending the account's sessions, audited as "cli"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from doorstep.gateway.audit import AuditEntry
from doorstep.gateway.auth import Principal, totp
from doorstep.gateway.auth.passwords import verify_password
from doorstep.gateway.auth.wiring import open_accounts
from doorstep.gateway.storage import SessionRecord, UserRecord

OLD_PASSWORD = "olga's old password"


def doorstep(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    if password is not None:
        env["DOORSTEP_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "doorstep.gateway", *args], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


async def _locked_out_owner(data_dir: Path) -> None:
    """An owner with a second factor, recovery codes and a session on two browsers."""
    core = await open_accounts(data_dir)
    try:
        console = Principal(0, "console", "owner")
        user = await core.accounts.create_user(console, "olga", OLD_PASSWORD, "owner", "console")
        await core.storage.users.set_totp(user.id, core.box.seal(totp.new_secret()))
        now = datetime.now(UTC)
        await core.storage.users.replace_recovery_codes(user.id, ["a" * 64, "b" * 64], now)
        for n in range(2):
            await core.storage.sessions.add(
                SessionRecord(f"{n}" * 64, user.id, now, now, "192.0.2.5", "phone")
            )
    finally:
        await core.storage.close()


async def _state(data_dir: Path) -> tuple[UserRecord, int, int, AuditEntry]:
    """Olga's row, her recovery codes, her sessions, and the newest audit row."""
    core = await open_accounts(data_dir)
    try:
        user = await core.storage.users.by_username("olga")
        assert user is not None
        codes = len(await core.storage.users.unused_recovery_codes(user.id))
        sessions = await core.storage.database.durable.fetchone(
            "SELECT COUNT(*) FROM sessions WHERE user_id = ?", (user.id,)
        )
        assert sessions is not None
        (last,) = await core.audit.query(limit=1)
        return user, codes, int(sessions[0]), last
    finally:
        await core.storage.close()


def test_reset_2fa_removes_the_factor_and_the_codes_and_signs_out(tmp_path: Path) -> None:
    asyncio.run(_locked_out_owner(tmp_path))
    done = doorstep("user", "reset-2fa", "OLGA", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "second factor removed for 'olga' (a new one is set up at the next sign-in); "
        "2 session(s) signed out"
    )
    user, codes, sessions, last = asyncio.run(_state(tmp_path))
    assert (user.totp_secret, codes, sessions) == (None, 0, 0)
    assert (last.actor, last.action, last.target) == ("cli", "user.totp.reset", f"user:{user.id}")
    assert last.detail["sessions_revoked"] == 2
    again = doorstep("user", "reset-2fa", "olga", "--data-dir", str(tmp_path))
    assert (again.returncode, again.stderr.strip()) == (
        1, "doorstep user reset-2fa: that account has no second factor"
    )  # fmt: skip
    nobody = doorstep("user", "reset-2fa", "nobody", "--data-dir", str(tmp_path))
    assert nobody.returncode == 1
    assert "no account 'nobody'" in nobody.stderr
    verified = doorstep("audit", "verify", "--data-dir", str(tmp_path))
    assert verified.returncode == 0, verified.stdout


def test_set_password_replaces_it_and_signs_out(tmp_path: Path) -> None:
    asyncio.run(_locked_out_owner(tmp_path))
    no_password = doorstep("user", "set-password", "olga", "--data-dir", str(tmp_path))
    assert no_password.returncode == 2
    assert "set DOORSTEP_PASSWORD or run it in a terminal" in no_password.stderr
    weak = doorstep("user", "set-password", "olga", "--data-dir", str(tmp_path), password="short")
    assert weak.returncode == 1
    assert "10 to 256 characters" in weak.stderr
    assert asyncio.run(_state(tmp_path))[2] == 2  # refused: nothing changed

    new = "olga's brand new password"
    done = doorstep("user", "set-password", "olga", "--data-dir", str(tmp_path), password=new)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "new password set for 'olga'; 2 session(s) signed out"
    user, codes, sessions, last = asyncio.run(_state(tmp_path))
    assert asyncio.run(verify_password(user.password_hash, new))
    assert not asyncio.run(verify_password(user.password_hash, OLD_PASSWORD))
    # She typed it herself: no forced change; her second factor is untouched.
    assert (user.must_change_password, user.totp_secret is not None, codes) == (False, True, 2)
    assert sessions == 0
    assert (last.actor, last.action, last.ip) == ("cli", "user.password.reset", "")
    assert last.detail["must_change"] is False
