"""The simulated device's HTTP side: SOAP endpoints (with WS-Security), snapshot, hostile modes."""

from __future__ import annotations

import asyncio

from aiohttp import web

from doorstep.simulator.device_service import (
    DEVICE_OPERATIONS,
    MEDIA_OPERATIONS,
    PRE_AUTH,
    Operation,
)
from doorstep.simulator.event_service import EVENT_OPERATIONS, subscription_operation
from doorstep.simulator.profile import Quirk
from doorstep.simulator.soap import (
    MAX_REQUEST_BYTES,
    SoapFault,
    envelope,
    fault_envelope,
    parse_request,
)
from doorstep.simulator.state import DeviceState
from doorstep.simulator.wssecurity import check_username_token

SOAP_CONTENT_TYPE = "application/soap+xml"
DEVICE = web.AppKey("device", DeviceState)


def _device(request: web.Request) -> DeviceState:
    return request.app[DEVICE]


async def _hostile_response(device: DeviceState) -> web.Response | None:
    mode = device.hostile
    if mode == "malformed":
        return web.Response(body=envelope("<tds:Truncated>")[:-40], content_type=SOAP_CONTENT_TYPE)
    if mode == "html500":
        return web.Response(
            status=500, text="<html><body>Internal Error</body></html>", content_type="text/html"
        )
    if mode == "empty":
        return web.Response(status=200, body=b"", content_type=SOAP_CONTENT_TYPE)
    if mode == "soap_fault":
        fault = SoapFault("Receiver", ("ter:Action",), "the device is having a bad day")
        return web.Response(
            status=fault.http_status, body=fault_envelope(fault), content_type=SOAP_CONTENT_TYPE
        )
    return None


ENDLESS_SNAPSHOT_BYTES = 2 * 1024**3
"""`endless_snapshot` sends a JPEG start marker and then zeros, up to 2 GiB or until the client
hangs up (SECURITY.md: "2 GB or endless snapshot")."""


async def _endless_snapshot(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
    await response.prepare(request)
    chunk = bytes(64 * 1024)
    try:
        await response.write(b"\xff\xd8\xff\xe0" + chunk[4:])
        for _ in range(ENDLESS_SNAPSHOT_BYTES // len(chunk) - 1):
            await response.write(chunk)  # raises once the client has gone
    except ConnectionError:
        pass  # the client hung up, which is what a client should do
    return response


async def _soap(
    request: web.Request, operations: dict[str, Operation], subscription: str | None
) -> web.Response:
    device = _device(request)
    if device.slow_s:
        await asyncio.sleep(device.slow_s)
    hostile = await _hostile_response(device)
    if hostile is not None:
        return hostile
    try:
        soap = parse_request(await request.read())
        device.requests[soap.name] += 1
        if soap.name not in PRE_AUTH:
            check_username_token(
                soap.header, device.profile.username, device.profile.password, device.now()
            )
        if subscription is not None:
            body = await subscription_operation(device, subscription, soap)
        else:
            operation = operations.get(soap.name)
            if operation is None:
                raise SoapFault(
                    "Sender", ("ter:ActionNotSupported",), f"{soap.name} is not supported"
                )
            body = await operation(device, soap)
    except SoapFault as fault:
        return web.Response(
            status=fault.http_status, body=fault_envelope(fault), content_type=SOAP_CONTENT_TYPE
        )
    return web.Response(body=envelope(body), content_type=SOAP_CONTENT_TYPE, charset="utf-8")


async def device_service(request: web.Request) -> web.Response:
    """POST /onvif/device_service."""
    return await _soap(request, DEVICE_OPERATIONS, None)


async def media_service(request: web.Request) -> web.Response:
    """POST /onvif/media_service."""
    return await _soap(request, MEDIA_OPERATIONS, None)


async def events_service(request: web.Request) -> web.Response:
    """POST /onvif/events_service."""
    return await _soap(request, EVENT_OPERATIONS, None)


async def subscription_service(request: web.Request) -> web.Response:
    """POST /onvif/subscription/{id}: PullMessages, Renew, Unsubscribe, SetSynchronizationPoint."""
    return await _soap(request, {}, request.match_info["sid"])


async def snapshot(request: web.Request) -> web.StreamResponse:
    """GET /snapshot.jpg behind Basic/Digest auth."""
    device = _device(request)
    auth = device.snapshot_auth
    header = request.headers.get("Authorization", "")
    basic_only = device.has(Quirk.BASIC_SNAPSHOT)
    if (basic_only and not header.startswith("Basic ")) or not auth.check(
        header, request.method, device.profile.username, device.profile.password
    ):
        challenge = auth.basic_challenge() if basic_only else auth.challenge()
        return web.Response(
            status=401, headers={"WWW-Authenticate": challenge}, text="Unauthorized"
        )
    if device.hostile == "endless_snapshot":
        return await _endless_snapshot(request)
    jpeg = device.media.jpeg(device.profile.width, device.profile.height)
    if device.snapshot_chunk_s > 0:
        return await _chunked_snapshot(request, jpeg, device.snapshot_chunk_s)
    return web.Response(body=jpeg, content_type="image/jpeg")


async def _chunked_snapshot(
    request: web.Request, jpeg: bytes, pause_s: float
) -> web.StreamResponse:
    """The JPEG in 1 KiB chunks with a pause between them (chunked transfer encoding)."""
    response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for offset in range(0, len(jpeg), 1024):
            await response.write(jpeg[offset : offset + 1024])
            await asyncio.sleep(pause_s)
        await response.write_eof()
    except ConnectionError:
        pass  # the client hung up
    return response


def create_device_app(device: DeviceState) -> web.Application:
    """The aiohttp application of one simulated device."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[DEVICE] = device
    app.router.add_post("/onvif/device_service", device_service)
    app.router.add_post("/onvif/media_service", media_service)
    app.router.add_post("/onvif/events_service", events_service)
    app.router.add_post("/onvif/subscription/{sid}", subscription_service)
    app.router.add_get("/snapshot.jpg", snapshot)
    return app
