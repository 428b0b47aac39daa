"""Builds the aiohttp application: middlewares, security headers, API routes and the web UI."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from .api import add_api_route, openapi_handler
from .audit_api import AuditPage, AuditVerification, list_audit, verify_audit
from .auth_api import (
    Me,
    PasswordBody,
    SetupBody,
    SetupStatus,
    SignInBody,
    TotpConfirm,
    TotpStart,
    change_password,
    confirm_totp,
    get_setup,
    post_setup,
    sign_in,
    sign_out,
    start_totp,
    who_am_i,
)
from .cameras_api import (
    SNAPSHOTS,
    AdoptBody,
    CameraList,
    CameraView,
    DiscoveryList,
    adopt,
    camera_snapshot,
    discover,
    list_cameras,
    remove_camera,
)
from .events_api import EventList, list_events, stream_events
from .health import HealthReport, health_handler
from .live_api import (
    IceServers,
    LiveAnswer,
    LiveOffer,
    TalkState,
    ice_servers,
    start_live,
    start_talk,
    stop_live,
    stop_talk,
    talk_state,
)
from .policy import TOTP_EXEMPT, Access, Handler, access_middleware, allow
from .users_api import (
    NewUser,
    UserChange,
    UserList,
    UserView,
    change_user,
    create_user,
    delete_user,
    list_users,
)

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


def _account_routes(app: web.Application) -> None:
    public, signed_in, owner = Access.PUBLIC, Access.SIGNED_IN, Access.OWNER
    add_api_route(app, "GET", "/api/setup", get_setup, access=public,
                  summary="Is first-run setup needed?", response=SetupStatus)  # fmt: skip
    add_api_route(app, "POST", "/api/setup", post_setup, access=public,
                  summary="Create the first owner (setup token from the console)",
                  request=SetupBody, response=Me)  # fmt: skip
    add_api_route(app, "POST", "/api/session", sign_in, access=public,
                  summary="Sign in", request=SignInBody, response=Me)  # fmt: skip
    add_api_route(app, "GET", "/api/session", who_am_i, access=signed_in,
                  summary="The signed-in account", response=Me)  # fmt: skip
    add_api_route(app, "DELETE", "/api/session", sign_out, access=signed_in, summary="Sign out")
    add_api_route(app, "POST", "/api/me/password", change_password, access=signed_in,
                  summary="Change your password", request=PasswordBody)  # fmt: skip
    add_api_route(app, "POST", "/api/me/totp", start_totp, access=signed_in,
                  summary="Start setting up a second factor", response=TotpStart)  # fmt: skip
    add_api_route(app, "POST", "/api/me/totp/confirm", confirm_totp, access=signed_in,
                  summary="Confirm the second factor with a code", request=TotpConfirm)  # fmt: skip
    add_api_route(app, "GET", "/api/users", list_users, access=owner,
                  summary="Accounts", response=UserList)  # fmt: skip
    add_api_route(app, "POST", "/api/users", create_user, access=owner,
                  summary="Create an account", request=NewUser, response=UserView)  # fmt: skip
    add_api_route(app, "PATCH", "/api/users/{user_id}", change_user, access=owner,
                  summary="Change an account", request=UserChange, response=UserView)  # fmt: skip
    add_api_route(app, "DELETE", "/api/users/{user_id}", delete_user, access=owner,
                  summary="Delete an account")  # fmt: skip
    app[TOTP_EXEMPT] = {
        ("GET", "/api/session"), ("DELETE", "/api/session"), ("POST", "/api/me/password"),
        ("POST", "/api/me/totp"), ("POST", "/api/me/totp/confirm"),
    }  # fmt: skip


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
    _account_routes(app)
    add_api_route(
        app, "DELETE", "/api/cameras/{camera_id}", remove_camera,
        access=Access.OWNER, summary="Stop and forget an adopted camera",
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/cameras/{camera_id}/snapshot", camera_snapshot,
        access=Access.SIGNED_IN, summary="A current JPEG from a camera",
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/live/ice", ice_servers, access=Access.SIGNED_IN,
        summary="STUN/TURN servers for the page's peer connection", response=IceServers,
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/live/{camera_id}", start_live, access=Access.SIGNED_IN,
        summary="Start live view: an SDP offer in, the answer out", request=LiveOffer,
        response=LiveAnswer,
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/live/session/{session_id}", stop_live,
        access=Access.SIGNED_IN, summary="Hang up a live view",
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/live/session/{session_id}/talk", start_talk,
        access=Access.SIGNED_IN, summary="Push-to-talk pressed: open the camera's speaker",
        response=TalkState,
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/live/session/{session_id}/talk", talk_state,
        access=Access.SIGNED_IN, summary="Whether the camera's speaker is still open",
        response=TalkState,
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/live/session/{session_id}/talk", stop_talk,
        access=Access.SIGNED_IN, summary="Push-to-talk released: close the camera's speaker",
        response=TalkState,
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/events", list_events,
        access=Access.SIGNED_IN, summary="Stored events, newest first", response=EventList,
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/events/stream", stream_events,
        access=Access.SIGNED_IN, summary="Live camera events and states (Server-Sent Events)",
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/audit", list_audit,
        access=Access.OWNER, summary="The audit log, newest first", response=AuditPage,
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/audit/verify", verify_audit,
        access=Access.OWNER, summary="Check the audit log's hash chain", response=AuditVerification,
    )  # fmt: skip
    app[SNAPSHOTS] = {}
    app.router.add_get("/", index_handler)
    allow(app, "GET", "/", Access.PUBLIC)
    allow(app, "HEAD", "/", Access.PUBLIC)
    app.router.add_static("/static", webui_dir(), follow_symlinks=False, append_version=False)
    allow(app, "GET", "/static", Access.PUBLIC)
    allow(app, "HEAD", "/static", Access.PUBLIC)
    return app
