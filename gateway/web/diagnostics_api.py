"""GET /api/cameras/{id}/diagnostics: a camera's state for a support request, redacted.

The owner downloads it to attach to a bug report, so it must be safe to publish: the camera's
host, user name and password, every URL's credentials and host, and any field named like a
secret are replaced before it leaves the gateway, whatever the driver put in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from doorstep.gateway.devices.supervisor import DeviceSupervisor
from doorstep.gateway.web.api import add_api_route
from doorstep.gateway.web.keys import DEVICES
from doorstep.gateway.web.policy import Access, json_error
from doorstep.sdk import DriverError

_log = logging.getLogger(__name__)

REDACTED = "[redacted]"
DIAGNOSTICS_TIMEOUT_S = 10.0
MAX_DEPTH = 8
MAX_ITEMS = 200
"""A driver's report is trimmed to this depth and this many items per list or mapping."""

_SECRET_KEY = re.compile(
    r"pass|secret|credential|token|auth|cookie|user|login|host|addr|mac|serial|ip$", re.I
)
_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<authority>[^/\s?#]*)")
_CAMERA_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _redact_text(text: str, secrets: Iterable[str]) -> str:
    def authority(match: re.Match[str]) -> str:
        port = re.search(r":(\d{1,5})$", match.group("authority"))
        return f"{match.group('scheme')}{REDACTED}{':' + port.group(1) if port else ''}"

    text = _URL.sub(authority, text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact(value: object, secrets: Iterable[str], depth: int = 0) -> object:
    """`value` made JSON-shaped with secrets, URL credentials and hosts replaced."""
    secrets = [s for s in secrets if s]
    if depth > MAX_DEPTH:
        return "[too deep]"
    if isinstance(value, Mapping):
        out: dict[str, object] = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            name = _redact_text(str(key), secrets)
            out[name] = (
                REDACTED
                if _SECRET_KEY.search(name) and item is not None
                else redact(item, secrets, depth + 1)
            )
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, secrets, depth + 1) for item in list(value)[:MAX_ITEMS]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _redact_text(str(value), secrets)


def _secrets_of(supervisor: DeviceSupervisor) -> list[str]:
    config = supervisor.config
    found = [config.host, config.username or ""]
    if config.password is not None:
        found.append(config.password.get_secret_value())
    for stream in supervisor.streams:
        found.append(stream.username or "")
        if stream.password is not None:
            found.append(stream.password.get_secret_value())
    return found


async def _driver_report(supervisor: DeviceSupervisor) -> dict[str, Any]:
    try:
        report = await asyncio.wait_for(supervisor.diagnostics(), DIAGNOSTICS_TIMEOUT_S)
    except (DriverError, TimeoutError) as exc:
        return {"driver_diagnostics": None, "driver_diagnostics_error": type(exc).__name__}
    except Exception as exc:  # a driver bug must not turn a download into a 500
        _log.warning("diagnostics of camera %s failed: %s", supervisor.camera_id, type(exc))
        return {"driver_diagnostics": None, "driver_diagnostics_error": type(exc).__name__}
    return {"driver_diagnostics": None if report is None else dict(report)}


async def camera_diagnostics(request: web.Request) -> web.Response:
    """GET /api/cameras/{camera_id}/diagnostics: the redacted report, as a JSON download."""
    camera_id = request.match_info["camera_id"]
    supervisor = request.app[DEVICES].supervisors.get(camera_id)
    if supervisor is None or not _CAMERA_ID.match(camera_id):
        raise json_error(web.HTTPNotFound, "no_such_camera", "no such camera")
    info = supervisor.info
    report: dict[str, Any] = {
        "camera": camera_id,
        "driver": supervisor.driver,
        "state": supervisor.state.value,
        "reason": supervisor.reason,
        "capabilities": sorted(supervisor.capabilities),
        "device": None
        if info is None
        else {"manufacturer": info.manufacturer, "model": info.model, "firmware": info.firmware},
        "streams": [
            {"name": s.name, "url": s.url, "video_codec": s.video_codec, "audio": s.audio_codec}
            for s in supervisor.streams
        ],
        **await _driver_report(supervisor),
    }
    body = json.dumps(redact(report, _secrets_of(supervisor)), indent=2, sort_keys=True)
    return web.Response(
        text=body,
        content_type="application/json",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="doorstep-{camera_id}-diagnostics.json"',
        },
    )


def add_diagnostics_routes(app: web.Application, camera_id_schema: Mapping[str, Any]) -> None:
    """Register the diagnostics download (owner only)."""
    add_api_route(
        app, "GET", "/api/cameras/{camera_id}/diagnostics", camera_diagnostics,
        access=Access.OWNER, summary="A camera's diagnostics for a support request (redacted)",
        path_params={"camera_id": camera_id_schema}, errors=(404,),
    )  # fmt: skip
