"""The HTTP surface against hostile input (issue 11, holes 7 and 9): no 500 or traceback for
input, headers on every error, Host names checked, owner-only files, only UI assets served, HEAD,
ASCII ids, strict JSON, idle and slow-body timeouts."""

from __future__ import annotations

import asyncio
import logging
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from doorstep.gateway.app import build_app, make_runner
from doorstep.gateway.config.models import Config
from doorstep.gateway.web import auth_api
from doorstep.gateway.web.errors import SECURITY_HEADERS
from doorstep.gateway.web.policy import Access, allow
from doorstep.gateway.web.server import create_web_app

from ..gateway_client import Client, call
from .conftest import set_up_owner


async def raw(port: int, request: bytes, read_s: float = 5.0) -> bytes:
    """Send bytes as they are (no client library fixing them up) and read the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), read_s)
    finally:
        writer.close()


@pytest.fixture
async def running(app: web.Application) -> AsyncIterator[int]:
    """The gateway served by the same runner `doorstep run` uses; yields its port."""
    runner = make_runner(app, idle_timeout_s=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


async def test_a_cookie_with_a_non_ascii_byte_is_no_session_not_a_500(
    running: int, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await raw(
        running,
        b"GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Cookie: doorstep_session=\xe9t\xe9\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 401 ")  # before the fix: 500 and 1.6 KB of traceback
    assert tracebacks(caplog) == []


async def test_a_client_aborting_its_body_logs_no_traceback(
    running: int, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(5):
        _, writer = await asyncio.open_connection("127.0.0.1", running)
        writer.write(
            b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Sec-Fetch-Site: same-origin\r\nContent-Length: 1000\r\n\r\n{"username":'
        )
        await writer.drain()
        writer.close()
    await asyncio.sleep(0.5)
    assert tracebacks(caplog) == []  # before: ~1.8 KB of traceback per aborted body
    web_lines = [
        r for r in caplog.records if r.name.startswith(("aiohttp", "doorstep.gateway.web"))
    ]
    assert [r for r in web_lines if r.levelno >= logging.WARNING] == []


async def test_malformed_requests_log_one_short_line_without_the_request(
    running: int, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(20):
        answer = await raw(running, b"GET /api/users/\xd9\xa1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.")
        assert b" 400 " in answer.split(b"\r\n")[0]
    assert tracebacks(caplog) == []
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.server"]
    assert len(lines) == 1, lines  # rate-limited
    assert "\\xd9" not in lines[0]
    assert "InvalidURLError" in lines[0]


async def test_a_bug_answers_a_json_500_with_the_security_headers_and_logs_once(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = await asyncio.to_thread(create_web_app)  # it reads the UI's directory

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/api/broken", broken)
    allow(app, "GET", "/api/broken", Access.PUBLIC)
    client = await aiohttp_client(app)
    for _ in range(3):
        async with client.get("/api/broken") as response:
            assert response.status == 500
            assert (await response.json())["error"] == "internal"
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, name
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1  # with its traceback, once a minute at most
    assert logged[0].exc_info is not None


async def test_every_error_carries_the_security_headers(
    browser: Callable[[], Awaitable[Client]],
) -> None:
    client = await browser()
    for method, path, status in (
        ("GET", "/api/users", 401), ("GET", "/nowhere", 404), ("PUT", "/api/health", 405),
        ("POST", "/api/session", 415),
    ):  # fmt: skip
        async with client.request(method, path, data=b"x") as response:
            assert response.status == status, path
            for name in SECURITY_HEADERS:
                assert name in response.headers, (path, name)


async def test_only_known_host_names_are_served(
    tmp_path: Path, aiohttp_client: Any, running: int
) -> None:
    for host, expected in (
        (b"127.0.0.1", b"200"), (b"[::1]:8420", b"200"), (b"localhost:8420", b"200"),
        (b"attacker.example", b"421"), (b"attacker.example:8420", b"421"), (b"", b"421"),
    ):  # fmt: skip
        answer = await raw(
            running, b"GET /api/health HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        )
        assert answer.split(b"\r\n")[0].split(b" ")[1] == expected, host
    config = Config.model_validate(
        {"storage": {"data_dir": tmp_path / "d"}, "server": {"hostnames": ["doorstep.home.arpa"]}}
    )
    named = await aiohttp_client(await asyncio.to_thread(build_app, config))
    async with named.get("/api/health", headers={"Host": "doorstep.home.arpa"}) as response:
        assert response.status == 200
    async with named.get("/api/health", headers={"Host": "rebound.example"}) as response:
        assert response.status == 421


async def test_the_data_directory_is_the_owners_alone(
    browser: Callable[[], Awaitable[Client]], app: web.Application, tmp_path: Path
) -> None:
    client = await browser()
    await set_up_owner(client)  # something written: the WAL exists
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700  # before: 0755
    for name in ("doorstep.db", "doorstep.db-wal", "secret.key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name  # before: 0644


async def test_older_permissions_are_tightened_at_start(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    (data / "doorstep.db").touch(mode=0o644)
    (data / "doorstep.db").chmod(0o644)
    data.chmod(0o755)
    config = Config.model_validate({"storage": {"data_dir": data}})
    await aiohttp_client(await asyncio.to_thread(build_app, config))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "doorstep.db").stat().st_mode) == 0o600


async def test_only_the_uis_own_assets_are_served(browser: Callable[[], Awaitable[Client]]) -> None:
    client = await browser()
    for path, status in (
        ("/static/app.js", 200), ("/static/views/live.js", 200), ("/static/style.css", 200),
        ("/static/__init__.py", 404), ("/static/../gateway/app.py", 404),
        ("/static/%2e%2e/gateway/app.py", 404), ("/static/", 404),
    ):  # fmt: skip
        async with client.get(path) as response:
            assert response.status == status, path  # before: __init__.py was served


async def test_head_answers_like_get_without_a_body(
    browser: Callable[[], Awaitable[Client]],
) -> None:
    client = await browser()
    await set_up_owner(client)
    for path in ("/api/health", "/api/cameras", "/api/openapi.json", "/", "/static/app.js"):
        async with client.head(path) as response:
            assert response.status == 200, path  # before: 405 on the API's GET routes
            assert await response.read() == b""


async def test_ids_take_ascii_digits_only_and_json_keys_once(
    browser: Callable[[], Awaitable[Client]],
) -> None:
    client = await browser()
    await set_up_owner(client)
    status, body = await call(client, "PATCH", "/api/users/%D9%A1", {"disabled": False})
    assert (status, body["error"]) == (404, "no_such_user")  # before: user 1
    async with client.post(
        "/api/users",
        data=b'{"username": "rita", "password": "resident pass 1", "role": "resident",'
        b' "role": "owner"}',
        headers={"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"},
    ) as response:
        assert response.status == 422  # before: accepted, the last "role" won
        assert "duplicate key" in (await response.json())["reason"]
    for bad in (b'{"username": NaN}', b"\xff\xfe", b'{"a": 1'):
        async with client.post(
            "/api/session",
            data=bad,
            headers={"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"},
        ) as response:
            assert response.status == 422, bad


async def test_idle_and_slow_header_connections_are_closed(running: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", running)
    started = time.monotonic()
    try:
        for byte in b"GET /api/health HTTP/1.1\r\nHost: 1":  # a slow-loris trickle
            if reader.at_eof():
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)
        closed = await asyncio.wait_for(reader.read(), 5)
    except ConnectionError:
        closed = b""
    finally:
        writer.close()
    assert closed == b""  # closed without an answer
    assert time.monotonic() - started < 4  # the 1 s idle limit, not the trickle's 7 s


async def test_a_slow_body_is_refused(running: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_api, "BODY_TIMEOUT_S", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", running)
    try:
        writer.write(
            b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Sec-Fetch-Site: same-origin\r\nContent-Length: 100\r\n\r\n{"
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(4096), 5)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
