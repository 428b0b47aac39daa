"""The camera's JPEG snapshot over HTTP: Digest, or Basic to the camera's own host when that is
all it asks for; no redirects; the body capped in bytes."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from doorstep.drivers.onvif.urls import on_host
from doorstep.sdk import DeviceUnavailable, ProtocolError

MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024
SNAPSHOT_TIMEOUT_S = 15.0
BASIC_NOTE = "snapshot uses Basic authentication (sent to the camera's own address only)"


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, however it is chunked; ProtocolError as soon as it passes `cap` bytes."""
    too_big = ProtocolError(f"snapshot is larger than {cap // (1024 * 1024)} MiB; refused")
    if response.content_length is not None and response.content_length > cap:
        raise too_big
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > cap:
            raise too_big
    return bytes(body)


class SnapshotClient:
    """Fetches one camera's snapshots and remembers which authentication its URL wants."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        camera_host: str,
        username: str,
        password: str,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> None:
        self._http = http
        self._host = camera_host
        self._username = username
        self._password = password
        self._log = log
        self.basic = False
        """The URL asked for Basic (and is on the camera's host): it is sent directly."""
        self._asked_basic = False

    async def fetch(self, uri: str) -> bytes:
        """One JPEG from `uri` (already pinned to the camera's host)."""
        try:
            status, body = await self._get(uri, basic=self.basic)
            if status == 401 and not self.basic and self._asked_basic:
                # Only a URL on the pinned camera host gets the password in Basic form (and
                # redirects are never followed).
                if not on_host(uri, self._host):
                    raise ProtocolError("snapshot asks for Basic authentication off the camera")
                self.basic = True
                self._log.info(
                    "the snapshot URL asks for Basic authentication; using it (the camera's own "
                    "address only)"
                )
                status, body = await self._get(uri, basic=True)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeviceUnavailable(f"snapshot: {type(exc).__name__}") from exc
        if status != 200:
            raise ProtocolError(f"snapshot answered HTTP {status}")
        if not body.startswith(b"\xff\xd8"):
            raise ProtocolError("snapshot is not a JPEG")
        return body

    async def _get(self, uri: str, *, basic: bool) -> tuple[int, bytes]:
        """The status and (on 200) the capped body of one GET."""
        auth: dict[str, Any] = (
            {
                "headers": {
                    "Authorization": aiohttp.encode_basic_auth(self._username, self._password)
                }
            }
            if basic
            else {"middlewares": (aiohttp.DigestAuthMiddleware(self._username, self._password),)}
        )
        async with self._http.get(
            uri,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=SNAPSHOT_TIMEOUT_S),
            **auth,
        ) as response:
            if response.status == 401:
                challenge = response.headers.get("WWW-Authenticate", "")
                self._asked_basic = challenge.strip().lower().startswith("basic")
            if response.status != 200:
                return response.status, b""
            return 200, await _read_capped(response, MAX_SNAPSHOT_BYTES)
