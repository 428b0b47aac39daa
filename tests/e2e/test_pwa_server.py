"""The installable app's files as the gateway serves them (no browser): the manifest and its icons,
and the service worker at the root with its version and shell list stamped in."""

from __future__ import annotations

import asyncio
import json
import re
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.app import build_app
from doorstep.gateway.config.models import Config
from doorstep.gateway.web.pwa import shell_urls, shell_version, stamped_worker
from doorstep.gateway.web.server import ui_assets, webui_dir

Client = TestClient[web.Request, web.Application]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], tmp_path: Path
) -> Client:
    config = Config.model_validate({"storage": {"data_dir": tmp_path / "data"}})
    return await aiohttp_client(await asyncio.to_thread(build_app, config))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_manifest_is_served_and_names_fetchable_icons_of_their_declared_sizes(
    client: Client,
) -> None:
    async with client.get("/manifest.webmanifest") as response:
        assert response.status == 200
        assert response.content_type == "application/manifest+json"
        manifest = json.loads(await response.text())
    assert manifest["name"] == "Doorstep"
    assert manifest["short_name"] == "Doorstep"
    assert manifest["id"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["start_url"] == "/#/cameras"  # inside the scope
    assert manifest["display"] == "standalone"
    for colour in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest[colour])
    purposes: dict[str, set[str]] = {}
    for icon in manifest["icons"]:
        async with client.get(icon["src"]) as response:
            assert response.status == 200, icon["src"]
            assert response.content_type == "image/png"
            data = await response.read()
        width, height = png_size(data)
        assert icon["sizes"] == f"{width}x{height}", icon["src"]
        assert icon["type"] == "image/png"
        purposes.setdefault(icon["sizes"], set()).update(icon["purpose"].split())
    assert {"192x192", "512x512"} <= {size for size, p in purposes.items() if "any" in p}
    assert "maskable" in purposes["512x512"]


async def test_the_badge_is_a_one_colour_shape_on_transparency(client: Client) -> None:
    async with client.get("/static/badge-96.png") as response:
        assert response.status == 200
        data = await response.read()
    assert png_size(data) == (96, 96)
    assert data[25] == 6  # colour type 6: RGBA (Android draws a badge's alpha channel only)


async def test_the_service_worker_is_served_at_the_root_stamped_and_uncached(
    client: Client,
) -> None:
    async with client.get("/sw.js") as response:
        assert response.status == 200
        assert response.content_type == "text/javascript"
        assert response.headers["Cache-Control"] == "no-cache"
        source = await response.text()
    assert "__VERSION__" not in source
    assert "__SHELL__" not in source
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', source)
    assert version, source[:500]
    shell = re.search(r"const SHELL = (\[.*?\])\.filter", source)
    assert shell
    urls = json.loads(shell.group(1))
    assert urls[:2] == ["/", "/manifest.webmanifest"]
    assert {"/static/app.js", "/static/style.css", "/static/pwa.js"} <= set(urls)
    assert "/static/sw.js" not in urls
    assert "/static/index.html" not in urls
    for url in urls:  # one missing file would make the browser refuse to install the worker
        async with client.get(url) as response:
            assert response.status == 200, url
    async with client.get("/sw.js") as again:
        assert version.group(0) in await again.text()  # same files, same version


async def test_the_api_is_never_marked_cacheable_and_the_shell_is_revalidated(
    client: Client,
) -> None:
    async with client.get("/api/health") as response:
        assert response.headers["Cache-Control"] == "no-store"
    async with client.get("/manifest.webmanifest") as response:
        assert response.headers["Cache-Control"] == "no-cache"


def test_any_change_to_a_ui_file_changes_the_version(tmp_path: Path) -> None:
    for name in ("index.html", "app.js", "sw.js", "manifest.webmanifest"):
        (tmp_path / name).write_bytes(
            (webui_dir() / name).read_bytes() if name == "sw.js" else b"x"
        )
    assets = ui_assets(tmp_path)
    before = shell_version(assets)
    (tmp_path / "app.js").write_bytes(b"y")
    after = shell_version(assets)
    assert before != after
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "new.js").write_bytes(b"")
    assets = ui_assets(tmp_path)
    assert shell_version(assets) != after  # a new (even empty) file counts too
    assert "/static/views/new.js" in shell_urls(assets)
    assert json.dumps(shell_version(assets)).encode() in stamped_worker(assets)


def test_a_worker_without_its_placeholders_is_refused_not_served_unstamped(tmp_path: Path) -> None:
    (tmp_path / "sw.js").write_text('const VERSION = "v1";\n')
    with pytest.raises(RuntimeError, match="placeholder"):
        stamped_worker(ui_assets(tmp_path))
