"""The web UI's files as served: the import map's hash in the CSP, the vendored view library
unmodified and recorded, every module import resolvable, and test-only files never served."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from doorstep.gateway.web.errors import IMPORT_MAP_HASH, SECURITY_HEADERS
from doorstep.gateway.web.server import ui_assets, webui_dir

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
REPO = Path(__file__).resolve().parents[2]
WEBUI = REPO / "webui"
_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)
_IMPORT = re.compile(
    r"""(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']"""
)


def _inline_scripts() -> list[tuple[str, str]]:
    html = (WEBUI / "index.html").read_text()
    return [(m["attrs"], m["body"]) for m in _SCRIPT.finditer(html) if "src=" not in m["attrs"]]


def _import_map() -> dict[str, str]:
    [(attrs, body)] = _inline_scripts()
    assert 'type="importmap"' in attrs
    imports: dict[str, str] = json.loads(body)["imports"]
    return imports


def test_the_one_inline_script_is_the_import_map_and_its_hash_is_in_the_csp() -> None:
    scripts = _inline_scripts()
    assert len(scripts) == 1  # anything else inline would be refused by the browser anyway
    body = scripts[0][1]
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == IMPORT_MAP_HASH
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert script_src == f"script-src 'self' {IMPORT_MAP_HASH}"
    for directive in ("worker-src 'self'", "manifest-src 'self'", "style-src 'self'"):
        assert directive in csp
    assert "unsafe" not in csp


def test_vendored_files_are_the_recorded_ones() -> None:
    for folder in (WEBUI / "vendor", REPO / "tests" / "e2e" / "vendor"):
        # package, version, licence, source file, file, sha256
        rows = [
            row
            for row in (line.split() for line in (folder / "VENDORED.txt").read_text().splitlines())
            if len(row) == 6 and re.fullmatch(r"[0-9a-f]{64}", row[5])
        ]
        assert rows, folder
        for row in rows:
            name, sha256 = row[-2], row[-1]
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha256, name
        assert list(folder.glob("LICENSE*.txt")), folder
    served = {Path(p).name for p in ui_assets(webui_dir())}
    assert {"preact.module.js", "hooks.module.js", "htm.module.js"} <= served
    assert "axe.min.js" not in served  # test-only, and MPL-licensed: never served
    assert not any(name.endswith(".txt") for name in served)


def test_every_module_import_resolves() -> None:
    """A typo in an import path would only show as a blank page in a browser: catch it here."""
    mapped = _import_map()
    for target in mapped.values():
        assert (WEBUI / target.removeprefix("/static/")).is_file(), target
    modules = [p for p in WEBUI.rglob("*.js") if "vendor" not in p.parts and p.name != "sw.js"]
    assert len(modules) > 20
    missing = []
    for module in modules:
        for match in _IMPORT.finditer(module.read_text()):
            spec = match[1] or match[2]
            if spec.startswith("."):
                if not (module.parent / spec).resolve().is_file():
                    missing.append(f"{module.relative_to(WEBUI)}: {spec}")
            elif spec not in mapped:
                missing.append(f"{module.relative_to(WEBUI)}: bare {spec}")
    assert missing == []


async def test_the_shell_and_modules_are_served_for_revalidation(
    app: web.Application, aiohttp_client: ClientFactory
) -> None:
    client = await aiohttp_client(app)
    index = await client.get("/")
    assert index.status == 200
    assert index.headers["Cache-Control"] == "no-cache"
    assert IMPORT_MAP_HASH in index.headers["Content-Security-Policy"]
    body = await index.text()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in body
    for path in ("/static/app.js", "/static/lib/store.js", "/static/vendor/preact.module.js"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type in {"text/javascript", "application/javascript"}, path
        assert response.headers["Cache-Control"] == "no-cache", path
    assert (await client.get("/static/vendor/VENDORED.txt")).status == 404
