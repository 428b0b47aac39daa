"""The installable web app's root files: the service worker, stamped with the UI's version, and
the manifest.

A service worker controls the folder it is served from, so it lives at /sw.js (not /static/) to
control the whole app. Its cache is named after a hash of every UI file: any change to the UI makes
a new /sw.js, which the browser installs with a fresh, consistent copy of the app shell.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from doorstep.gateway.web.policy import Access, allow, json_error

WORKER = "sw.js"
MANIFEST = "manifest.webmanifest"
_VERSION_MARK = '"__VERSION__"'
_SHELL_MARK = '["__SHELL__"]'
_NOT_CACHED = frozenset({WORKER, MANIFEST, "index.html"})  # the worker itself; the other two
# are cached under their own URLs ("/" and "/manifest.webmanifest")


def shell_version(assets: Mapping[str, Path]) -> str:
    """A short hash of every UI file's name and bytes (blocking: run it in a thread)."""
    digest = hashlib.sha256()
    for name, path in sorted(assets.items()):
        data = path.read_bytes()
        for part in (name.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()[:16]


def shell_urls(assets: Mapping[str, Path]) -> list[str]:
    """The URLs the service worker caches on install: the page, the manifest, the UI's files."""
    files = [f"/static/{name}" for name in sorted(assets) if name not in _NOT_CACHED]
    return ["/", f"/{MANIFEST}", *files]


def stamped_worker(assets: Mapping[str, Path]) -> bytes:
    """sw.js with its version and shell list filled in (blocking: run it in a thread)."""
    source = assets[WORKER].read_text(encoding="utf-8")
    if _VERSION_MARK not in source or _SHELL_MARK not in source:
        raise RuntimeError(f"{WORKER} lost its {_VERSION_MARK} or {_SHELL_MARK} placeholder")
    stamped = source.replace(_VERSION_MARK, json.dumps(shell_version(assets)), 1)
    return stamped.replace(_SHELL_MARK, json.dumps(shell_urls(assets)), 1).encode()


def add_pwa_routes(app: web.Application, assets: dict[str, Path]) -> None:
    """GET /sw.js and /manifest.webmanifest, public like the rest of the UI's files."""

    async def service_worker(request: web.Request) -> web.Response:
        if WORKER not in assets:
            raise json_error(web.HTTPNotFound, "not_found", "no such file")
        body = await asyncio.to_thread(stamped_worker, assets)
        # no-cache: the browser asks every time, so a new UI is picked up on the next visit.
        return web.Response(
            body=body, content_type="text/javascript", charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )  # fmt: skip

    async def manifest(request: web.Request) -> web.Response:
        path = assets.get(MANIFEST)
        if path is None:
            raise json_error(web.HTTPNotFound, "not_found", "no such file")
        body = await asyncio.to_thread(path.read_bytes)
        return web.Response(
            body=body, content_type="application/manifest+json", charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )  # fmt: skip

    for path, handler in ((f"/{WORKER}", service_worker), (f"/{MANIFEST}", manifest)):
        app.router.add_get(path, handler)
        allow(app, "GET", path, Access.PUBLIC)
        allow(app, "HEAD", path, Access.PUBLIC)
