"""The simulated device's HTTP side: SOAP endpoints (with WS-Security), snapshot, hostile modes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from collections import deque
from typing import TYPE_CHECKING, cast

from aiohttp import web

from doorstep.simulator.device_service import (
    DEVICE_OPERATIONS,
    MEDIA_OPERATIONS,
    PRE_AUTH,
    Operation,
)
from doorstep.simulator.event_service import EVENT_OPERATIONS, subscription_operation
from doorstep.simulator.soap import (
    MAX_REQUEST_BYTES,
    SoapFault,
    envelope,
    fault_envelope,
    parse_request,
)
from doorstep.simulator.wssecurity import check_username_token

if TYPE_CHECKING:
    from doorstep.simulator.device import SimulatedDevice

SOAP_CONTENT_TYPE = "application/soap+xml"
_DIGEST_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')
DEVICE = web.AppKey("device", object)


def _md5(value: str) -> str:
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


class SnapshotAuth:
    """HTTP Basic or Digest (RFC 2617 with qop=auth) for the snapshot URL, as cameras do."""

    def __init__(self, realm: str) -> None:
        self.realm = realm
        self._nonces: deque[str] = deque(maxlen=64)

    def challenge(self) -> str:
        """A fresh Digest challenge."""
        nonce = secrets.token_hex(16)
        self._nonces.append(nonce)
        return f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", algorithm=MD5'

    def check(self, header: str, method: str, username: str, password: str) -> bool:
        """True if the Authorization header carries the right credentials."""
        if header.startswith("Basic "):
            try:
                user, _, given = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return secrets.compare_digest(
                f"{user}:{given}".encode(), f"{username}:{password}".encode()
            )
        if not header.startswith("Digest "):
            return False
        p = {
            m.group(1).lower(): m.group(2) or m.group(3) for m in _DIGEST_PARAM.finditer(header[7:])
        }
        if p.get("username") != username or p.get("nonce") not in self._nonces:
            return False
        ha1 = _md5(f"{username}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{p.get('uri', '')}")
        if p.get("qop") == "auth":
            expected = _md5(
                f"{ha1}:{p['nonce']}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}"
            )
        else:
            expected = _md5(f"{ha1}:{p['nonce']}:{ha2}")
        return secrets.compare_digest(expected, p.get("response", ""))


def _device(request: web.Request) -> SimulatedDevice:
    return cast("SimulatedDevice", request.app[DEVICE])  # object-typed key avoids an import cycle


async def _hostile_response(device: SimulatedDevice) -> web.Response | None:
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
    if not auth.check(header, request.method, device.profile.username, device.profile.password):
        return web.Response(
            status=401, headers={"WWW-Authenticate": auth.challenge()}, text="Unauthorized"
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


def create_device_app(device: SimulatedDevice) -> web.Application:
    """The aiohttp application of one simulated device."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[DEVICE] = device
    app.router.add_post("/onvif/device_service", device_service)
    app.router.add_post("/onvif/media_service", media_service)
    app.router.add_post("/onvif/events_service", events_service)
    app.router.add_post("/onvif/subscription/{sid}", subscription_service)
    app.router.add_get("/snapshot.jpg", snapshot)
    return app
