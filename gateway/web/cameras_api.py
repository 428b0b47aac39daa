"""Camera API: list cameras with their state, probe the network, adopt and remove a camera.

The handlers speak HTTP only; the camera façade (`CAMERAS`) does the work.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.cameras.adoption import AdoptRequest
from doorstep.gateway.cameras.errors import (
    AdoptionError,
    CameraConflict,
    CameraNotFound,
    CameraUnavailable,
)
from doorstep.gateway.cameras.views import CameraView, DiscoveredView
from doorstep.gateway.web.auth_api import body_of
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, CAMERAS, CONFIG
from doorstep.gateway.web.policy import PRINCIPAL, json_error
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


def _may_see(request: web.Request) -> Callable[[str], bool]:
    return request[PRINCIPAL].may_see


async def list_cameras(request: web.Request) -> web.Response:
    """GET /api/cameras."""
    views = request.app[CAMERAS].views(_may_see(request))
    return web.json_response(CameraList(cameras=views).model_dump(mode="json"))


async def get_camera(request: web.Request) -> web.Response:
    """GET /api/cameras/{camera_id}: one camera the caller may see."""
    try:
        view = request.app[CAMERAS].view(request.match_info["camera_id"], _may_see(request))
    except CameraNotFound:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera") from None
    return web.json_response(view.model_dump(mode="json"))


async def discover(request: web.Request) -> web.Response:
    """GET /api/discovery: probe as configured and list what answered."""
    devices = await request.app[CAMERAS].discover(request.app[CONFIG].discovery)
    return web.json_response(DiscoveryList(devices=devices).model_dump(mode="json"))


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
    except (AdoptionError, CameraConflict) as exc:
        await audit.append(
            who, "camera.adopt", f"{body.host}:{body.port or ''}", outcome="failed", ip=ip,
            detail={"reason": str(exc)},
        )  # fmt: skip
        if isinstance(exc, CameraConflict):
            raise json_error(web.HTTPConflict, exc.code, str(exc)) from None
        raise json_error(web.HTTPUnprocessableEntity, "adoption_failed", str(exc)) from None
    await audit.append(
        who, "camera.adopt", f"camera:{view.id}", ip=ip,
        detail={"host": view.host, "port": view.port, "driver": view.driver},
    )  # fmt: skip
    return web.json_response(view.model_dump(mode="json"), status=201)


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
