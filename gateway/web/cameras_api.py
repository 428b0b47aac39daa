"""Camera API: list cameras with their state, probe the network, adopt a camera."""

from __future__ import annotations

import time

from aiohttp import web
from pydantic import BaseModel, Field

from doorstep.gateway.cameras.adoption import AdoptionError, AdoptRequest
from doorstep.gateway.discovery import discover as discover_devices
from doorstep.gateway.web.auth_api import body_of
from doorstep.gateway.web.keys import ACCOUNTS, AUDIT, CAMERA_SERVICE, CONFIG, DEVICES, STREAMS
from doorstep.gateway.web.policy import PRINCIPAL, json_error
from doorstep.gateway.web.session import client_ip
from doorstep.sdk import DiscoveredDevice, DriverError

MAX_BODY = 16 * 1024


class StreamView(BaseModel):
    """A stream the camera offers (no address: it may carry a path the camera keeps private)."""

    name: str
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None


class CameraView(BaseModel):
    """A camera as the UI sees it; credentials are never part of it."""

    id: str
    name: str
    driver: str
    host: str
    port: int | None
    state: str
    reason: str | None
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    stable_id: str | None = None
    clock_offset_s: float | None = Field(
        default=None, description="Camera clock minus gateway clock (s); a large one is flagged."
    )
    capabilities: list[str] = Field(default_factory=list)
    streams: list[StreamView] = Field(default_factory=list)
    talk: bool | None = Field(
        default=None, description="Has a speaker for talk (None: unknown until tried)."
    )
    stream_error: str | None = Field(
        default=None,
        description="Why the main stream last failed to open (None: it works, or was not tried).",
    )


class CameraList(BaseModel):
    """Every camera."""

    cameras: list[CameraView]


class DiscoveredView(BaseModel):
    """A device that answered discovery, and whether it is adopted already."""

    driver: str
    host: str
    port: int
    endpoint: str | None
    name: str | None
    hardware: str | None
    found_by: str
    adopted: bool


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


def _views(request: web.Request) -> list[CameraView]:
    views = []
    principal = request[PRINCIPAL]
    hub = request.app.get(STREAMS)
    for camera_id, supervisor in request.app[DEVICES].supervisors.items():
        if not principal.may_see(camera_id):
            continue
        info, config = supervisor.info, supervisor.config
        stream = hub.get(f"{camera_id}/main") if hub is not None else None
        views.append(
            CameraView(
                id=camera_id,
                name=supervisor.name,
                driver=supervisor.driver,
                host=config.host,
                port=config.port,
                state=supervisor.state.value,
                reason=supervisor.reason,
                manufacturer=info.manufacturer if info else None,
                model=info.model if info else None,
                firmware=info.firmware if info else None,
                stable_id=info.stable_id if info else None,
                clock_offset_s=info.clock_offset_s if info else None,
                capabilities=sorted(supervisor.capabilities),
                streams=[
                    StreamView(
                        name=s.name, codec=s.video_codec, width=s.width, height=s.height, fps=s.fps
                    )
                    for s in supervisor.streams
                ],
                talk=supervisor.talk,
                stream_error=stream.last_error if stream is not None else None,
            )
        )
    return views


async def list_cameras(request: web.Request) -> web.Response:
    """GET /api/cameras."""
    return web.json_response(CameraList(cameras=_views(request)).model_dump(mode="json"))


async def discover(request: web.Request) -> web.Response:
    """GET /api/discovery: probe as configured and list what answered."""
    settings = request.app[CONFIG].discovery
    found: list[DiscoveredDevice] = await discover_devices(
        settings.targets, settings.interfaces, settings.listen_s, settings.mdns
    )
    known = {(s.config.host, s.config.port) for s in request.app[DEVICES].supervisors.values()}
    devices = [
        DiscoveredView(
            driver=d.driver,
            host=d.host,
            port=d.port,
            endpoint=d.endpoint,
            name=d.name,
            hardware=d.hardware,
            found_by=d.found_by,
            adopted=(d.host, d.port) in known,
        )
        for d in found
    ]
    return web.json_response(DiscoveryList(devices=devices).model_dump(mode="json"))


async def adopt(request: web.Request) -> web.Response:
    """POST /api/cameras: adopt a camera (the credentials are checked against it first)."""
    body = await body_of(request, AdoptBody, MAX_BODY)
    try:
        record = await request.app[CAMERA_SERVICE].adopt(
            AdoptRequest(
                body.host,
                body.port,
                body.username,
                body.password,
                body.name,
                body.driver,
                rtsp_allow_basic=body.rtsp_allow_basic,
            ),
            request.app[DEVICES],
        )
    except AdoptionError as exc:
        await request.app[AUDIT].append(
            request[PRINCIPAL].username, "camera.adopt", f"{body.host}:{body.port or ''}",
            outcome="failed", ip=client_ip(request), detail={"reason": str(exc)},
        )  # fmt: skip
        raise json_error(web.HTTPUnprocessableEntity, "adoption_failed", str(exc)) from None
    await request.app[AUDIT].append(
        request[PRINCIPAL].username, "camera.adopt", f"camera:{record.id}", ip=client_ip(request),
        detail={"host": record.host, "port": record.port, "driver": record.driver},
    )  # fmt: skip
    view = next(v for v in _views(request) if v.id == record.id)
    return web.json_response(view.model_dump(mode="json"), status=201)


SNAPSHOT_CACHE_S = 2.0  # a grid of viewers must not hammer a doorbell's snapshot endpoint


async def camera_snapshot(request: web.Request) -> web.Response:
    """GET /api/cameras/{camera_id}/snapshot: a current JPEG (cameras the caller may see only)."""
    camera_id = request.match_info["camera_id"]
    supervisor = request.app[DEVICES].supervisors.get(camera_id)
    if supervisor is None or not request[PRINCIPAL].may_see(camera_id):
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera")  # same for both
    cache = request.app[SNAPSHOTS]
    now = time.monotonic()
    cached = cache.get(camera_id)
    if cached is None or now - cached[0] > SNAPSHOT_CACHE_S:
        try:
            image = await supervisor.snapshot()
        except DriverError as exc:
            raise json_error(web.HTTPServiceUnavailable, "no_snapshot", str(exc)) from None
        cache[camera_id] = cached = (now, image)
    return web.Response(
        body=cached[1], content_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )


SNAPSHOTS = web.AppKey("snapshots", dict[str, tuple[float, bytes]])


async def remove_camera(request: web.Request) -> web.Response:
    """DELETE /api/cameras/{camera_id}: stop and forget an adopted camera (its clips stay)."""
    camera_id = request.match_info["camera_id"]
    devices = request.app[DEVICES]
    if camera_id not in devices.supervisors:
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera")
    if camera_id in {c.id for c in request.app[CONFIG].cameras}:
        raise json_error(
            web.HTTPConflict, "declared_in_config", "this camera is declared in the config file"
        )
    await devices.remove(camera_id)
    kept = await request.app[CAMERA_SERVICE].forget(camera_id)
    request.app[ACCOUNTS].changes.changed_all()  # its grants went with it: channels re-check
    await request.app[AUDIT].append(
        request[PRINCIPAL].username, "camera.remove", f"camera:{camera_id}", ip=client_ip(request),
        detail={"record_kept_for_clips": kept},
    )  # fmt: skip
    return web.json_response({"ok": True})
