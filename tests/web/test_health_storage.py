"""Health reports the storage through the storage boundary: ok with its schema, or down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.keys import STORAGE

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


async def test_health_says_storage_is_down_when_the_database_is_gone(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    config = Config.model_validate({"storage": {"data_dir": tmp_path}})
    client = await aiohttp_client(await asyncio.to_thread(build_app, config))
    before = await (await client.get("/api/health")).json()
    assert before["status"] == "ok"
    assert before["storage"]["state"] == "ok"

    await client.app[STORAGE].database.standard.raw.close()  # the database went away
    response = await client.get("/api/health")
    assert response.status == 200
    body = await response.json()
    assert body["storage"] == {"state": "down", "schema_version": None}
    assert body["status"] == "degraded"
