"""Roles are route policies and grants follow cameras (issue 11, holes 4 and 5)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from doorstep.gateway.auth import AuthError, Principal
from doorstep.gateway.storage import CameraRecord, CameraRepository, Database, UserRepository
from doorstep.gateway.storage.db import load_migrations
from doorstep.gateway.web.keys import ACCOUNTS
from doorstep.gateway.web.policy import POLICIES, Access

from ..gateway_client import Client, call
from .conftest import set_up_owner

CONSOLE = Principal(0, "console", "owner")
PASSWORD = "outsider password"


async def signed_in_as(
    browser: Callable[[], Awaitable[Client]], app: web.Application, name: str, role: str
) -> Client:
    """A signed-in account of `role` (agencies get their second factor set up)."""
    await app[ACCOUNTS].create_user(CONSOLE, name, PASSWORD, role, "test")
    client = await browser()
    status, _ = await call(client, "POST", "/api/session", {"username": name, "password": PASSWORD})
    assert status == 200
    return client


@pytest.mark.parametrize("role", ["neighbour", "agency"])
async def test_outside_roles_reach_no_camera_route(
    browser: Callable[[], Awaitable[Client]], app: web.Application, role: str
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    client = await signed_in_as(browser, app, "outsider", role)
    household = [
        (method, path)
        for (method, path), access in app[POLICIES].items()
        if access is Access.HOUSEHOLD and method != "HEAD"
    ]
    # Every camera, snapshot, event and live route, walked from the router itself.
    assert {"/api/cameras", "/api/events", "/api/events/stream"} <= {p for _, p in household}
    assert any("/snapshot" in p for _, p in household)
    for method, path in household:
        concrete = re.sub(r"\{\w+\}", "garden", path)
        status, body = await call(client, method, concrete, {"sdp": "v=0"})
        if role == "agency":  # an agency is not even told the route exists
            assert (status, body["error"]) == (404, "not_found"), (method, path)
            continue
        assert (status, body["error"]) == (403, "household_only"), (method, path)


@pytest.mark.parametrize("role", ["neighbour", "agency"])
async def test_outside_roles_cannot_be_granted_cameras(
    browser: Callable[[], Awaitable[Client]], app: web.Application, role: str
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    body = {"username": "ned", "password": PASSWORD, "role": role, "cameras": ["garden"]}
    status, refused = await call(owner, "POST", "/api/users", body)
    assert (status, refused["error"]) == (422, "no_grants_for_role")
    body["cameras"] = []
    status, created = await call(owner, "POST", "/api/users", body)
    assert status == 201
    status, refused = await call(
        owner, "PATCH", f"/api/users/{created['id']}", {"cameras": ["garden"]}
    )
    assert (status, refused["error"]) == (422, "no_grants_for_role")


async def test_a_demoted_resident_loses_grants_and_camera_routes(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    client = await signed_in_as(browser, app, "rita", "resident")
    rita = next(u for u, _ in await app[ACCOUNTS].list_users() if u.username == "rita")
    await app[ACCOUNTS].update_user(CONSOLE, rita.id, None, None, {"garden"}, "test")
    status, cameras = await call(client, "GET", "/api/cameras")
    assert [c["id"] for c in cameras["cameras"]] == ["garden"]
    status, changed = await call(owner, "PATCH", f"/api/users/{rita.id}", {"role": "neighbour"})
    assert (status, changed["role"], changed["cameras"]) == (200, "neighbour", [])
    # Before the fix: the camera was still listed, its snapshot 200, its events 66 rows.
    for path in ("/api/cameras", "/api/cameras/garden/snapshot", "/api/events"):
        assert (await call(client, "GET", path))[0] == 403, path
    # Promoted back, the grant does not come back by itself.
    await app[ACCOUNTS].update_user(CONSOLE, rita.id, "resident", None, None, "test")
    assert await app[ACCOUNTS].list_users()
    grants = {u.username: g for u, g in await app[ACCOUNTS].list_users()}
    assert grants["rita"] == set()


async def test_a_grant_of_a_camera_that_does_not_exist_is_refused(
    browser: Callable[[], Awaitable[Client]], app: web.Application
) -> None:
    owner = await browser()
    await set_up_owner(owner)
    body = {"username": "rita", "password": PASSWORD, "cameras": ["no-such-camera"]}
    status, refused = await call(owner, "POST", "/api/users", body)
    assert (status, refused["error"]) == (422, "no_such_camera")
    user = await app[ACCOUNTS].create_user(CONSOLE, "rita", PASSWORD, "resident", "test")
    with pytest.raises(AuthError, match="does not exist"):
        await app[ACCOUNTS].update_user(CONSOLE, user.id, None, None, {"nope"}, "test")


async def test_grants_go_with_their_camera(tmp_path: Path) -> None:
    """Delete "garage", adopt another device under the same id: the old grant is gone."""
    database = await Database.open(tmp_path / "doorstep.db")
    try:
        cameras = CameraRepository(database.standard)
        users = UserRepository(database.durable)
        now = datetime.now(UTC)
        await cameras.upsert(CameraRecord("garage", "Garage", "onvif", "192.0.2.10", 80, now))
        user_id = await users.add("rita", "hash", "resident", now)
        await users.set_grants(user_id, {"garage"})
        assert await users.grants(user_id) == {"garage"}
        await cameras.delete("garage")
        await cameras.upsert(CameraRecord("garage", "Garage", "onvif", "192.0.2.99", 80, now))
        assert await users.grants(user_id) == set()  # before the fix: {"garage"}
    finally:
        await database.close()


def test_the_migration_drops_grants_no_camera_or_role_can_hold(tmp_path: Path) -> None:
    """A database from before the fix: orphaned grants and a neighbour's grant are removed."""
    path = tmp_path / "doorstep.db"
    # A real schema-4 file: migrations 1..4 only (later ones never need undoing here).
    conn = sqlite3.connect(path)
    try:
        for migration in load_migrations()[:4]:
            conn.executescript(migration.sql)
        conn.executescript("""
            INSERT INTO cameras (id, name, driver, host, created_at) VALUES
                ('front', 'Front', 'onvif', '192.0.2.1', '2026-01-01T00:00:00.000000Z');
            INSERT INTO users (id, username, password_hash, role, created_at) VALUES
                (1, 'rita', 'h', 'resident', '2026-01-01T00:00:00.000000Z'),
                (2, 'ned', 'h', 'neighbour', '2026-01-01T00:00:00.000000Z');
            INSERT INTO camera_grants VALUES (1, 'front'), (1, 'gone'), (2, 'front');
            PRAGMA user_version = 4;
        """)
        conn.commit()
    finally:
        conn.close()

    async def build() -> None:
        database = await Database.open(path)
        await database.close()

    asyncio.run(build())
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT user_id, camera_id FROM camera_grants").fetchall()
    finally:
        conn.close()
    assert rows == [(1, "front")]
