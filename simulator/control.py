"""HTTP control API of the simulator: press the doorbell, start motion, reboot, skew the clock, …

Bound to 127.0.0.1 and guarded by a bearer token printed at start-up.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from aiohttp import web

from doorstep.simulator.device import HOSTILE_MODES, SimulatedDevice
from doorstep.simulator.media import dominant_frequency, ulaw_decode
from doorstep.simulator.profile import Quirk


class Controlled(Protocol):
    """What the control API drives: the running simulator (runner.Simulator)."""

    @property
    def control_token(self) -> str:
        """The bearer token every request must carry."""
        ...

    @property
    def devices(self) -> Mapping[str, SimulatedDevice]:
        """The devices by name."""
        ...


SIMULATOR = web.AppKey("simulator", Controlled)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _simulator(request: web.Request) -> Controlled:
    return request.app[SIMULATOR]


@web.middleware
async def _token_required(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = f"Bearer {_simulator(request).control_token}"
    if not secrets.compare_digest(
        request.headers.get("Authorization", "").encode(), expected.encode()
    ):
        raise web.HTTPUnauthorized(reason="control token required")
    return await handler(request)


def _device(request: web.Request) -> SimulatedDevice:
    device = _simulator(request).devices.get(request.match_info["name"])
    if device is None:
        raise web.HTTPNotFound(reason="no such device")
    return device


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(reason="body must be JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(reason="body must be a JSON object")
    return data


def _number(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise web.HTTPBadRequest(reason=f"{key} must be a number")
    return float(value)


async def list_devices(request: web.Request) -> web.Response:
    """GET /devices."""
    return web.json_response([d.summary() for d in _simulator(request).devices.values()])


async def press(request: web.Request) -> web.Response:
    """POST /devices/{name}/press: a doorbell press; `reported` says whether the doorbell sent
    it (not while its button is still held from the last press: then `held_s` and `reason`)."""
    done = _device(request).press_button()
    if done is None:
        raise web.HTTPConflict(reason="not a doorbell")
    return web.json_response(done.answer())


async def _toggle(request: web.Request, name: str) -> web.Response:
    data = await _json(request)
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise web.HTTPBadRequest(reason="active must be true or false")
    device = _device(request)
    if name == "motion":
        device.motion(active)
    elif not device.set_property(name, active):
        raise web.HTTPConflict(reason=f"device has no {name} detection")
    return web.json_response({"ok": True})


async def motion(request: web.Request) -> web.Response:
    """POST /devices/{name}/motion {"active": bool}."""
    return await _toggle(request, "motion")


async def person(request: web.Request) -> web.Response:
    """POST /devices/{name}/person {"active": bool}."""
    return await _toggle(request, "person")


async def reboot(request: web.Request) -> web.Response:
    """POST /devices/{name}/reboot {"down_s": seconds}."""
    device = _device(request)
    device.schedule_reboot(_number(await _json(request), "down_s", device.default_reboot_s))
    return web.json_response({"ok": True})


async def clock(request: web.Request) -> web.Response:
    """POST /devices/{name}/clock {"skew_s": seconds}: the device clock runs off by that much."""
    device = _device(request)
    device.clock_skew = timedelta(seconds=_number(await _json(request), "skew_s", 0))
    return web.json_response({"ok": True, "device_time": device.now().isoformat()})


async def slow(request: web.Request) -> web.Response:
    """POST /devices/{name}/slow {"delay_s": seconds}: delay every SOAP answer."""
    _device(request).slow_s = max(0.0, _number(await _json(request), "delay_s", 0))
    return web.json_response({"ok": True})


async def hostile(request: web.Request) -> web.Response:
    """POST /devices/{name}/hostile {"mode": name or null}: answer with broken or hostile data."""
    mode = (await _json(request)).get("mode")
    if mode is not None and mode not in HOSTILE_MODES:
        raise web.HTTPBadRequest(reason=f"mode must be one of {sorted(HOSTILE_MODES)} or null")
    _device(request).hostile = mode
    return web.json_response({"ok": True})


async def backchannel(request: web.Request) -> web.Response:
    """GET /devices/{name}/backchannel: what arrived on the speaker; DELETE clears it."""
    recorder = _device(request).rtsp_settings.recorder
    if request.method == "DELETE":
        recorder.clear()
        return web.json_response({"ok": True})
    pcm = ulaw_decode(bytes(recorder.audio))
    return web.json_response(
        {
            "packets": recorder.packets,
            "bytes": len(recorder.audio),
            "seconds": len(pcm) / 8000,
            "dominant_hz": round(dominant_frequency(pcm), 1),
        }
    )


async def quirks(request: web.Request) -> web.Response:
    """POST /devices/{name}/quirks {"quirks": [name, …]}: behave like a device with these."""
    names = (await _json(request)).get("quirks", [])
    known = {q.value: q for q in Quirk}
    if not isinstance(names, list) or not all(isinstance(n, str) and n in known for n in names):
        raise web.HTTPBadRequest(reason=f"quirks must be a list of {sorted(known)}")
    device = _device(request)
    device.set_quirks(frozenset(known[n] for n in names))
    return web.json_response({"ok": True, "quirks": sorted(names)})


def create_control_app(simulator: Controlled) -> web.Application:
    """The control API application."""
    app = web.Application(middlewares=[_token_required], client_max_size=64 * 1024)
    app[SIMULATOR] = simulator
    app.router.add_get("/devices", list_devices)
    app.router.add_post("/devices/{name}/press", press)
    app.router.add_post("/devices/{name}/motion", motion)
    app.router.add_post("/devices/{name}/person", person)
    app.router.add_post("/devices/{name}/reboot", reboot)
    app.router.add_post("/devices/{name}/clock", clock)
    app.router.add_post("/devices/{name}/slow", slow)
    app.router.add_post("/devices/{name}/hostile", hostile)
    app.router.add_post("/devices/{name}/quirks", quirks)
    app.router.add_get("/devices/{name}/backchannel", backchannel)
    app.router.add_delete("/devices/{name}/backchannel", backchannel)
    return app
