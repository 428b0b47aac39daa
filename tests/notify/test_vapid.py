"""The VAPID key: made once in the data directory (PKCS#8 PEM, 0600), the same after every
restart, and a damaged file is reported and left alone, never silently replaced."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from doorstep.gateway.app import build_app
from doorstep.gateway.notify.prefs import Prefs
from doorstep.gateway.notify.service import PushUnavailable
from doorstep.gateway.notify.vapid import KEY_FILE, VapidKeyError, load_or_create, open_keys
from doorstep.gateway.web.keys import PUSH
from doorstep.simulator import Simulator

from ..peers.push_service import PushReceiver
from .rig import api, push_config, push_rig


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_key_is_made_once_private_and_stable(tmp_path: Path) -> None:
    first = await open_keys(tmp_path / "data")
    path = tmp_path / "data" / KEY_FILE
    assert _mode(path) == 0o600
    assert (await asyncio.to_thread(path.read_bytes)).startswith(b"-----BEGIN PRIVATE KEY-----")
    second = await open_keys(tmp_path / "data")
    assert second.public_key == first.public_key


@asynccontextmanager
async def gateway(simulator: Simulator, data_dir: Path) -> AsyncIterator[web.Application]:
    """A gateway running on `data_dir` (no owner needed: the test reads its state)."""
    async with PushReceiver() as receiver:
        app = await asyncio.to_thread(build_app, push_config(simulator, data_dir, receiver))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield app
        finally:
            await server.close()


async def test_the_key_survives_a_gateway_restart(simulator: Simulator, tmp_path: Path) -> None:
    async with push_rig(simulator, tmp_path / "data") as rig:
        _, before = await api(rig.owner, "GET", "/api/push/key")
    async with gateway(simulator, tmp_path / "data") as app:
        assert app[PUSH].public_key == before["public_key"]
    assert _mode(tmp_path / "data" / KEY_FILE) == 0o600


async def test_a_damaged_key_turns_push_off_and_says_why(
    simulator: Simulator, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    await asyncio.to_thread(data.mkdir, mode=0o700)
    await asyncio.to_thread((data / KEY_FILE).write_bytes, b"garbage")
    async with gateway(simulator, data) as app:
        push = app[PUSH]
        assert (push.active, push.public_key) == (False, "")
        assert push.unavailable is not None
        assert KEY_FILE in push.unavailable
        with pytest.raises(PushUnavailable):
            await push.subscribe(1, "https://fcm.googleapis.com/x", "k", "a", "", Prefs())
    assert await asyncio.to_thread((data / KEY_FILE).read_bytes) == b"garbage"


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    keys, created = load_or_create(tmp_path)
    assert created
    (tmp_path / KEY_FILE).chmod(0o644)
    again, created = load_or_create(tmp_path)
    assert not created
    assert again.public_key == keys.public_key
    assert _mode(tmp_path / KEY_FILE) == 0o600


@pytest.mark.parametrize("content", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"])
def test_a_damaged_key_is_reported_and_left_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(VapidKeyError):
        load_or_create(tmp_path)
    assert path.read_bytes() == content  # not replaced: every phone is bound to the old key


def test_a_key_on_another_curve_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / KEY_FILE).write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    with pytest.raises(VapidKeyError, match="P-256"):
        load_or_create(tmp_path)
