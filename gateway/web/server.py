"""Builds the aiohttp application: middlewares, security headers, API routes and the web UI."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from .api import add_api_route, openapi_handler
from .cameras_api import (
    AdoptBody,
    CameraList,
    CameraView,
    DiscoveryList,
    adopt,
    discover,
    list_cameras,
)
from .health import HealthReport, health_handler
from .policy import Access, Handler, access_middleware, allow

MAX_REQUEST_BYTES = 1 << 20

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(self)",
}


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add CSP and friends to every response, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(_SECURITY_HEADERS)
        raise
    response.headers.update(_SECURITY_HEADERS)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def webui_dir() -> Path:
    """Directory of the packaged static web UI."""
    return Path(str(resources.files("webui")))


async def index_handler(request: web.Request) -> web.FileResponse:
    """Serve the single-page UI shell."""
    return web.FileResponse(webui_dir() / "index.html")


def create_web_app() -> web.Application:
    """The web application with every route declared; component state is attached by the caller."""
    app = web.Application(
        middlewares=[security_headers_middleware, access_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    add_api_route(
        app, "GET", "/api/health", health_handler,
        access=Access.PUBLIC, summary="Component health", response=HealthReport,
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/openapi.json", openapi_handler,
        access=Access.PUBLIC, summary="This API's OpenAPI document",
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/cameras", list_cameras,
        access=Access.SIGNED_IN, summary="Cameras and their state", response=CameraList,
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/cameras", adopt, access=Access.OWNER,
        summary="Adopt a camera (credentials are checked against it)", request=AdoptBody,
        response=CameraView,
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/discovery", discover,
        access=Access.OWNER, summary="Probe the network for cameras", response=DiscoveryList,
    )  # fmt: skip
    app.router.add_get("/", index_handler)
    allow(app, "GET", "/", Access.PUBLIC)
    allow(app, "HEAD", "/", Access.PUBLIC)
    app.router.add_static("/static", webui_dir(), follow_symlinks=False, append_version=False)
    allow(app, "GET", "/static", Access.PUBLIC)
    allow(app, "HEAD", "/static", Access.PUBLIC)
    return app
