"""Camera API: list cameras with their state, probe the network, adopt, change and remove a
camera.

The handlers speak HTTP only; the camera façade (`CAMERAS`) does the work. A refused adoption or
settings change answers 422 with the reason in plain words, a `hint` (what to do), the raw
`detail` (for a details toggle) and the `field` it is about.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from doorstep.gateway.cameras.adoption import AdoptRequest
from doorstep.gateway.cameras.errors import (
    CameraConflict,
    CameraNotFound,
    CameraRefused,
    CameraUnavailable,
)
from doorstep.gateway.cameras.settings import CameraChange
from doorstep.gateway.cameras.views import CameraSettingsView, CameraView, DiscoveredView
from doorstep.gateway.config.fields import OptionValue, SafeText
from doorstep.gateway.config.recording import CameraRecordingConfig
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.auth_api import body_of
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, CAMERAS, LIVE, SETTINGS
from doorstep.gateway.web.policy import PRINCIPAL, Access, json_error
from doorstep.gateway.web.responses import model_response
from doorstep.gateway.web.session import client_ip

MAX_BODY = 16 * 1024


class CameraList(BaseModel):
    """Every camera."""

    cameras: list[CameraView]


class DiscoveryList(BaseModel):
    """What answered."""

    devices: list[DiscoveredView]


class AdoptBody(BaseModel):
    """Adopt a camera by address and credentials."""

    host: str = Field(max_length=255)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=256)
    password: str | None = Field(default=None, max_length=256)
    name: str = Field(min_length=1, max_length=100)
    driver: str = Field(default="onvif", max_length=32)
    rtsp_allow_basic: bool = Field(
        default=False,
        description="Answer an RTSP Basic challenge, which sends the camera's password in clear "
        "over plain rtsp:// to whoever answers as the camera; off, such a stream is refused.",
    )


OptionName = Annotated[str, Field(min_length=1, max_length=64)]


class RecordingChangeBody(CameraRecordingConfig):
    """This camera's recording settings to change; a field sent as null follows the gateway's
    default again, a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CameraChangeBody(BaseModel):
    """What to change on a camera; a field left out (or null) stays as it is.

    Name and live stream take effect at once; the rest restarts that camera alone (other
    cameras keep their events). New credentials are checked against the camera first, as when
    adopting: a camera that refuses them, or cannot be reached to check them, changes nothing.
    For a camera from config.yaml each change is stored as an override of the file's value
    (kept across restarts until that field is edited in the file; then the file wins).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    name: SafeText | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool | None = Field(
        default=None, description="false stops the camera (its grants and events are kept)."
    )
    live_stream: Literal["main", "sub"] | None = Field(
        default=None,
        description="The stream live view opens from the next call on; 'sub' needs a camera "
        "that offers one (422 otherwise, with the reason).",
    )
    rtsp_allow_basic: bool | None = Field(
        default=None,
        description="Answer an RTSP Basic challenge, which sends the camera's password in "
        "clear over plain rtsp://.",
    )
    options: dict[OptionName, OptionValue | None] | None = Field(
        default=None,
        max_length=32,
        description="Driver options to set, checked by the camera's driver (see the camera's "
        "settings for their schema); null unsets one.",
    )
    username: SafeText | None = Field(default=None, max_length=256)
    password: str | None = Field(
        default=None, min_length=1, max_length=256, description="Never returned."
    )
    recording: RecordingChangeBody | None = Field(
        default=None,
        description="How this camera records (mode, audio, pre-/post-roll, event kinds, "
        "retention days); applied at once, without restarting the camera.",
    )


def _may_see(request: web.Request) -> Callable[[str], bool]:
    return request[PRINCIPAL].may_see


def _editor(request: web.Request) -> bool:
    return request[PRINCIPAL].role == "owner"


def _refusal(exc: CameraRefused, code: str) -> web.HTTPException:
    """422 with the reason in plain words, what to do, the raw cause and the field."""
    body = {"error": code, "reason": str(exc), "hint": exc.hint, "detail": exc.detail,
            "field": exc.field}  # fmt: skip
    return web.HTTPUnprocessableEntity(text=json.dumps(body), content_type="application/json")


async def list_cameras(request: web.Request) -> web.Response:
    """GET /api/cameras."""
    views = request.app[CAMERAS].views(_may_see(request), editor=_editor(request))
    return model_response(CameraList(cameras=views))


async def get_camera(request: web.Request) -> web.Response:
    """GET /api/cameras/{camera_id}: one camera the caller may see."""
    try:
        view = request.app[CAMERAS].view(
            request.match_info["camera_id"], _may_see(request), editor=_editor(request)
        )
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    return model_response(view)


async def discover(request: web.Request) -> web.Response:
    """GET /api/discovery: probe as configured (the owner's settings over config.yaml's) and
    list what answered."""
    devices = await request.app[CAMERAS].discover(request.app[SETTINGS].config.discovery)
    return model_response(DiscoveryList(devices=devices))


async def adopt(request: web.Request) -> web.Response:
    """POST /api/cameras: adopt a camera (the credentials are checked against it first)."""
    body = await body_of(request, AdoptBody, MAX_BODY)
    audit, who, ip = request.app[AUDIT], request[PRINCIPAL].username, client_ip(request)
    try:
        view = await request.app[CAMERAS].adopt(
            AdoptRequest(
                body.host,
                body.port,
                body.username,
                body.password,
                body.name,
                body.driver,
                rtsp_allow_basic=body.rtsp_allow_basic,
            )
        )
    except (CameraRefused, CameraConflict) as exc:
        await audit.append(
            who, "camera.adopt", f"{body.host}:{body.port or ''}", outcome="failed", ip=ip,
            detail={"reason": str(exc)},
        )  # fmt: skip
        if isinstance(exc, CameraConflict):
            raise json_error(web.HTTPConflict, exc.code, str(exc)) from None
        raise _refusal(exc, "adoption_failed") from None
    await audit.append(
        who, "camera.adopt", f"camera:{view.id}", ip=ip,
        detail={"host": view.host, "port": view.port, "driver": view.driver},
    )  # fmt: skip
    return model_response(view, status=201)


async def camera_snapshot(request: web.Request) -> web.Response:
    """GET /api/cameras/{camera_id}/snapshot: a current JPEG (cameras the caller may see only)."""
    camera_id = request.match_info["camera_id"]
    try:
        image = await request.app[CAMERAS].snapshot(camera_id, _may_see(request))
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    except CameraUnavailable as exc:
        raise json_error(web.HTTPServiceUnavailable, "no_snapshot", str(exc)) from None
    return web.Response(
        body=image, content_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )


async def remove_camera(request: web.Request) -> web.Response:
    """DELETE /api/cameras/{camera_id}: stop and forget an adopted camera (its clips stay)."""
    camera_id = request.match_info["camera_id"]
    try:
        kept = await request.app[CAMERAS].remove(camera_id)
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    except CameraConflict as exc:
        raise json_error(web.HTTPConflict, exc.code, str(exc)) from None
    request.app[ACCOUNTS].changes.changed_all()  # its grants went with it: channels re-check
    await request.app[AUDIT].append(
        request[PRINCIPAL].username, "camera.remove", f"camera:{camera_id}", ip=client_ip(request),
        detail={"record_kept_for_clips": kept},
    )  # fmt: skip
    return web.json_response({"ok": True})


def _audit_detail(body: CameraChangeBody, changed: list[str]) -> dict[str, Any]:
    """What changed, with the new values, never a password."""
    detail: dict[str, Any] = {"changed": changed}
    for field in ("name", "enabled", "live_stream", "rtsp_allow_basic"):
        if field in changed:
            detail[field] = getattr(body, field)
    options = body.options or {}
    set_options = {
        name: options.get(name)
        for name in (f.removeprefix("options.") for f in changed if f.startswith("options."))
    }
    if set_options:
        detail["options"] = set_options
    recording = {
        name: getattr(body.recording, name)
        for name in (f.removeprefix("recording.") for f in changed if f.startswith("recording."))
    }
    if recording:
        detail["recording"] = recording
    return detail


async def _end_calls(request: web.Request, camera_id: str) -> None:
    """A camera turned off ends the live calls on it (its stream stops with them)."""
    live = request.app[LIVE]
    for session in [s for s in live.sessions.values() if s.camera_id == camera_id]:
        await live.stop(session.id, "camera disabled")


async def change_camera(request: web.Request) -> web.Response:
    """PATCH /api/cameras/{camera_id}: change a camera's settings (owner; audited)."""
    camera_id = request.match_info["camera_id"]
    body = await body_of(request, CameraChangeBody, MAX_BODY)
    audit, who, ip = request.app[AUDIT], request[PRINCIPAL].username, client_ip(request)
    change = CameraChange(
        name=body.name, enabled=body.enabled, live_stream=body.live_stream,
        rtsp_allow_basic=body.rtsp_allow_basic, options=body.options, username=body.username,
        password=body.password,
        recording=None if body.recording is None else {
            name: getattr(body.recording, name) for name in body.recording.model_fields_set
        },
    )  # fmt: skip
    try:
        view, changed = await request.app[CAMERAS].change(camera_id, change)
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    except CameraRefused as exc:
        await audit.append(
            who, "camera.update", f"camera:{camera_id}", outcome="failed", ip=ip,
            detail={"reason": str(exc), "fields": sorted(body.model_fields_set)},
        )  # fmt: skip
        raise _refusal(exc, "change_refused") from None
    if changed:
        await audit.append(
            who, "camera.update", f"camera:{camera_id}", ip=ip, detail=_audit_detail(body, changed)
        )
    if "enabled" in changed and body.enabled is False:
        await _end_calls(request, camera_id)
    return model_response(view)


async def camera_settings(request: web.Request) -> web.Response:
    """GET /api/cameras/{camera_id}/settings: the camera's settings form (owner; no password)."""
    try:
        settings = request.app[CAMERAS].settings(request.match_info["camera_id"])
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    return model_response(settings)


CHANGE_SUMMARY = (
    "Change a camera: rename, turn off/on, live stream (main/sub), recording, driver options, "
    "credentials (checked against the camera first; never returned). Applies without a "
    "gateway restart, restarting that camera alone when its connection must change. For a "
    "camera from config.yaml, changes are stored as overrides of the file's values (until "
    "that field is edited in the file). 422 says why in plain words, with a hint, the raw "
    "detail and the field."
)


def add_camera_routes(app: web.Application, camera_id_schema: Mapping[str, Any]) -> None:
    """Register the camera settings routes (owner only)."""
    add_api_route(
        app, "PATCH", "/api/cameras/{camera_id}", change_camera, access=Access.OWNER,
        summary=CHANGE_SUMMARY, request=CameraChangeBody, response=CameraView,
        path_params={"camera_id": camera_id_schema}, errors=(404, 422),
    )  # fmt: skip
    add_api_route(
        app, "GET", "/api/cameras/{camera_id}/settings", camera_settings, access=Access.OWNER,
        summary="A camera's settings, what may be changed, and its driver's option schema",
        response=CameraSettingsView, path_params={"camera_id": camera_id_schema},
        errors=(404,),
    )  # fmt: skip
