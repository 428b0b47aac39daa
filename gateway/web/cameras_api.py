"""Camera API: list cameras with their state, probe the network, adopt a camera."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from drivers.sdk import DiscoveredDevice

from ..cameras import AdoptionError, AdoptRequest
from ..discovery import discover as discover_devices
from .keys import CAMERA_SERVICE, CONFIG, DEVICES

MAX_BODY = 16 * 1024


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


def _views(request: web.Request) -> list[CameraView]:
    views = []
    for camera_id, supervisor in request.app[DEVICES].supervisors.items():
        info, config = supervisor.info, supervisor.config
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
    if (request.content_length or 0) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY, actual_size=request.content_length or 0
        )
    try:
        body = AdoptBody.model_validate_json(await request.read())
    except ValidationError as exc:
        first = exc.errors()[0]
        return web.json_response(
            {"error": f"{'.'.join(map(str, first['loc']))}: {first['msg']}"}, status=422
        )
    try:
        record = await request.app[CAMERA_SERVICE].adopt(
            AdoptRequest(
                body.host, body.port, body.username, body.password, body.name, body.driver
            ),
            request.app[DEVICES],
        )
    except AdoptionError as exc:
        return web.json_response({"error": str(exc)}, status=422)
    view = next(v for v in _views(request) if v.id == record.id)
    return web.json_response(view.model_dump(mode="json"), status=201)
