"""Builds the aiohttp application: middlewares, security headers, API routes and the web UI."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from doorstep.gateway.cameras.views import CameraView
from doorstep.gateway.web.agency_api import add_agency_routes
from doorstep.gateway.web.api import Done, add_api_route, openapi_handler
from doorstep.gateway.web.audit_api import AuditPage, list_audit
from doorstep.gateway.web.audit_checkpoints_api import add_checkpoint_routes
from doorstep.gateway.web.auth_api import (
    ConfirmBody,
    Me,
    PasswordBody,
    SetupBody,
    SetupStatus,
    SignInBody,
    TotpConfirm,
    TotpConfirmed,
    TotpStart,
    add_recovery_code_routes,
    change_password,
    confirm_identity,
    confirm_totp,
    get_setup,
    post_setup,
    sign_in,
    sign_out,
    start_totp,
    who_am_i,
)
from doorstep.gateway.web.automation_api import add_automation_routes
from doorstep.gateway.web.cameras_api import (
    AdoptBody,
    CameraList,
    DiscoveryList,
    add_camera_routes,
    adopt,
    camera_snapshot,
    discover,
    get_camera,
    list_cameras,
    remove_camera,
)
from doorstep.gateway.web.clips_api import add_clip_routes
from doorstep.gateway.web.diagnostics_api import add_diagnostics_routes
from doorstep.gateway.web.errors import add_security_headers, error_middleware, install_log_filter
from doorstep.gateway.web.events_api import (
    STREAMS,
    EventList,
    OpenStreams,
    list_events,
    stream_events,
)
from doorstep.gateway.web.health import HealthReport, health_handler
from doorstep.gateway.web.hosts import host_middleware
from doorstep.gateway.web.live_api import (
    IceServers,
    LiveAnswer,
    LiveOffer,
    TalkState,
    add_call_routes,
    ice_servers,
    start_live,
    start_talk,
    stop_live,
    stop_talk,
    talk_state,
)
from doorstep.gateway.web.meta_api import add_meta_routes
from doorstep.gateway.web.policy import TOTP_EXEMPT, Access, access_middleware, allow, json_error
from doorstep.gateway.web.push_api import add_push_routes
from doorstep.gateway.web.pwa import add_pwa_routes
from doorstep.gateway.web.requests_api import add_request_routes
from doorstep.gateway.web.rings_api import add_ring_routes
from doorstep.gateway.web.settings_api import add_settings_routes
from doorstep.gateway.web.share_public_api import add_public_share_routes
from doorstep.gateway.web.shares_api import add_share_routes
from doorstep.gateway.web.users_api import (
    NewUser,
    UserChange,
    UserList,
    UserView,
    add_reset_routes,
    change_user,
    create_user,
    delete_user,
    list_users,
)

MAX_REQUEST_BYTES = 1 << 20
STATIC_SUFFIXES = frozenset({".js", ".css", ".svg", ".html", ".png", ".webmanifest"})
"""What the UI is made of; nothing else in its package directory (e.g. __init__.py) is served."""


CAMERA_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}
USER_ID = {"type": "string", "pattern": "^[0-9]{1,12}$"}
LIVE_SESSION_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}


class EventsQuery(BaseModel):
    """The filters of GET /api/events (documentation: the handler reads the query itself)."""

    camera: list[str] = Field(default_factory=list, description="Only these cameras (repeat it)")
    kind: list[str] = Field(default_factory=list, description="Only these kinds (repeat it)")
    before: AwareDatetime | None = Field(None, description="Received before this time (ISO 8601)")
    limit: int = Field(100, description="At most this many (clamped to 1..1000)")


class AuditQuery(BaseModel):
    """The filters of GET /api/audit (documentation: the handler reads the query itself)."""

    actor: str = Field("", description="Only rows by this account name")
    action: str = Field("", description="Only actions starting with this (login finds login.*)")
    target: str = Field("", description="Only rows about this target")
    since: str = Field("", description="Rows at or after this ISO 8601 time")
    until: str = Field("", description="Rows before this ISO 8601 time")
    before: int | None = Field(None, description="Rows before this sequence number (paging)")
    limit: int = Field(100, description="At most this many (clamped)")


def webui_dir() -> Path:
    """Directory of the packaged static web UI."""
    return Path(str(resources.files("doorstep.webui")))


async def index_handler(request: web.Request) -> web.FileResponse:
    """Serve the single-page UI shell."""
    return web.FileResponse(webui_dir() / "index.html", headers={"Cache-Control": "no-cache"})


STATIC_FILES = web.AppKey("static_files", dict[str, Path])


def ui_assets(root: Path) -> dict[str, Path]:
    """The UI's files by URL path under /static/ (read once; no path from a request is joined)."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.suffix in STATIC_SUFFIXES
    }


async def static_handler(request: web.Request) -> web.FileResponse:
    """GET /static/{path}: one of the UI's own assets, else 404."""
    path = request.app[STATIC_FILES].get(request.match_info["path"])
    if path is None:
        raise json_error(web.HTTPNotFound, "not_found", "no such file")
    # The UI is ES modules with no build step (no hashed names): revalidate each time, or a
    # browser could run one module of the old version with another of the new.
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


def _account_routes(app: web.Application) -> None:
    public, signed_in, owner = Access.PUBLIC, Access.SIGNED_IN, Access.OWNER
    add_api_route(app, "GET", "/api/setup", get_setup, access=public,
                  summary="Is first-run setup needed?", response=SetupStatus)  # fmt: skip
    add_api_route(app, "POST", "/api/setup", post_setup, access=public,
                  summary="Create the first owner (setup token from the console)",
                  request=SetupBody, response=Me, status=201, errors=(409, 429))  # fmt: skip
    add_api_route(app, "POST", "/api/session", sign_in, access=public,
                  summary="Sign in", request=SignInBody, response=Me,
                  errors=(401, 429))  # fmt: skip
    add_api_route(app, "GET", "/api/session", who_am_i, access=signed_in,
                  summary="The signed-in account", response=Me)  # fmt: skip
    add_api_route(app, "DELETE", "/api/session", sign_out, access=signed_in, summary="Sign out",
                  response=Done)  # fmt: skip
    add_api_route(app, "POST", "/api/session/confirm", confirm_identity, access=signed_in,
                  summary="Re-enter the password before a security-sensitive change",
                  request=ConfirmBody, response=Done, errors=(429,))  # fmt: skip
    add_api_route(app, "POST", "/api/me/password", change_password, access=signed_in,
                  summary="Change your password", request=PasswordBody, response=Done,
                  errors=(429,))  # fmt: skip
    add_api_route(app, "POST", "/api/me/totp", start_totp, access=signed_in, reauth=True,
                  summary="Start setting up a second factor", response=TotpStart)  # fmt: skip
    add_api_route(app, "POST", "/api/me/totp/confirm", confirm_totp, access=signed_in,
                  summary="Confirm the second factor with a code", request=TotpConfirm,
                  response=TotpConfirmed, errors=(429,))  # fmt: skip
    add_recovery_code_routes(app)
    add_api_route(app, "GET", "/api/users", list_users, access=owner,
                  summary="Accounts", response=UserList)  # fmt: skip
    add_api_route(app, "POST", "/api/users", create_user, access=owner, reauth=True,
                  summary="Create an account", request=NewUser, response=UserView, status=201,
                  errors=(409,))  # fmt: skip
    add_api_route(app, "PATCH", "/api/users/{user_id}", change_user, access=owner, reauth=True,
                  summary="Change an account", request=UserChange, response=UserView,
                  path_params={"user_id": USER_ID}, errors=(404, 409))  # fmt: skip
    add_api_route(app, "DELETE", "/api/users/{user_id}", delete_user, access=owner, reauth=True,
                  summary="Delete an account", response=Done, path_params={"user_id": USER_ID},
                  errors=(404, 409, 422))  # fmt: skip
    add_reset_routes(app, USER_ID)
    app[TOTP_EXEMPT] = {
        ("GET", "/api/session"), ("DELETE", "/api/session"), ("POST", "/api/me/password"),
        ("POST", "/api/session/confirm"), ("POST", "/api/me/totp"),
        ("POST", "/api/me/totp/confirm"),
    }  # fmt: skip


def create_web_app() -> web.Application:
    """The web application with every route declared; component state is attached by the caller."""
    install_log_filter()
    app = web.Application(
        middlewares=[error_middleware, host_middleware, access_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app.on_response_prepare.append(add_security_headers)
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
        access=Access.HOUSEHOLD, summary="Cameras and their state", response=CameraList,
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/cameras", adopt, access=Access.OWNER,
        summary="Adopt a camera (credentials are checked against it)", request=AdoptBody,
        response=CameraView, status=201, errors=(409,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/discovery", discover,
        access=Access.OWNER, summary="Probe the network for cameras", response=DiscoveryList,
    )  # fmt: skip
    _account_routes(app)
    add_api_route(
        app, "GET", "/api/cameras/{camera_id}", get_camera,
        access=Access.HOUSEHOLD, summary="One camera and its state", response=CameraView,
        path_params={"camera_id": CAMERA_ID}, errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/cameras/{camera_id}", remove_camera,
        access=Access.OWNER, summary="Stop and forget an adopted camera", response=Done,
        path_params={"camera_id": CAMERA_ID}, errors=(404, 409),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/cameras/{camera_id}/snapshot", camera_snapshot,
        access=Access.HOUSEHOLD, summary="A current JPEG from a camera", media_type="image/jpeg",
        path_params={"camera_id": CAMERA_ID}, errors=(404, 503),
    )  # fmt: skip
    add_diagnostics_routes(app, CAMERA_ID)
    add_camera_routes(app, CAMERA_ID)
    add_push_routes(app)
    add_meta_routes(app)
    add_automation_routes(app)
    add_api_route(
        app, "GET", "/api/live/ice", ice_servers, access=Access.HOUSEHOLD,
        summary="STUN/TURN servers for the page's peer connection", response=IceServers,
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/live/{camera_id}", start_live, access=Access.HOUSEHOLD,
        summary="Start live view: an SDP offer in, the answer out", request=LiveOffer,
        response=LiveAnswer, status=201, path_params={"camera_id": CAMERA_ID},
        errors=(404, 409, 413, 429, 503),
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/live/session/{session_id}", stop_live,
        access=Access.HOUSEHOLD, summary="Hang up a live view", response=Done,
        path_params={"session_id": LIVE_SESSION_ID}, errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "POST", "/api/live/session/{session_id}/talk", start_talk,
        access=Access.HOUSEHOLD, summary="Push-to-talk pressed: open the camera's speaker",
        response=TalkState, status=201, path_params={"session_id": LIVE_SESSION_ID},
        errors=(404, 409, 413, 422, 429, 503),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/live/session/{session_id}/talk", talk_state,
        access=Access.HOUSEHOLD, summary="Whether the camera's speaker is still open",
        response=TalkState, path_params={"session_id": LIVE_SESSION_ID}, errors=(404,),
    )  # fmt: skip
    add_api_route(
        app, "DELETE", "/api/live/session/{session_id}/talk", stop_talk,
        access=Access.HOUSEHOLD, summary="Push-to-talk released: close the camera's speaker",
        response=TalkState, path_params={"session_id": LIVE_SESSION_ID}, errors=(404,),
    )  # fmt: skip
    add_call_routes(app, LIVE_SESSION_ID)
    add_ring_routes(app)
    add_api_route(
        app, "GET", "/api/events", list_events,
        access=Access.HOUSEHOLD, summary="Stored events, newest first", response=EventList,
        query=EventsQuery, errors=(422,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/events/stream", stream_events,
        access=Access.HOUSEHOLD, summary="Live camera events and states (Server-Sent Events)",
        media_type="text/event-stream", errors=(429,),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/audit", list_audit,
        access=Access.OWNER, summary="The audit log, newest first", response=AuditPage,
        query=AuditQuery, errors=(422,),
    )  # fmt: skip
    add_checkpoint_routes(app)
    add_settings_routes(app)
    add_clip_routes(app)
    add_share_routes(app)
    add_public_share_routes(app, webui_dir() / "share.html")
    add_request_routes(app)
    add_agency_routes(app)
    app[STREAMS] = OpenStreams()
    app.on_shutdown.append(app[STREAMS].end_all)
    app.router.add_get("/", index_handler)
    allow(app, "GET", "/", Access.PUBLIC)
    allow(app, "HEAD", "/", Access.PUBLIC)
    app[STATIC_FILES] = ui_assets(webui_dir())
    app.router.add_get("/static/{path:.+}", static_handler)
    allow(app, "GET", "/static/{path}", Access.PUBLIC)
    allow(app, "HEAD", "/static/{path}", Access.PUBLIC)
    add_pwa_routes(app, app[STATIC_FILES])
    return app
