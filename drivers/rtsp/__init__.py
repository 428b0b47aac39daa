"""Generic RTSP camera driver: live streams from a fixed RTSP path, no events.

For cameras that speak RTSP but not ONVIF (or whose ONVIF is broken). Options:
`main_path` (default `/`), optional `sub_path`. The camera's reachability is checked with an
RTSP OPTIONS request, which needs no credentials on most cameras.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from urllib.parse import quote

from doorstep.sdk import (
    API_VERSION,
    DeviceConfig,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    ProtocolError,
    StreamSource,
    Unsupported,
)

DEFAULT_PORT = 554
PROBE_TIMEOUT_S = 5.0
MAX_STATUS_LINE = 256


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _path(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.startswith("/") or any(c in value for c in " \r\n#"):
        raise Unsupported(f"option {name} must be an absolute RTSP path such as /stream1")
    return quote(value, safe="/?=&;:%@!$'()*+,-._~")


class RtspCamera:
    """A camera known only by its RTSP URL(s)."""

    def __init__(self, config: DeviceConfig, context: DriverContext) -> None:
        self._config = config
        self._log = context.logger
        self._base = f"rtsp://{_host_for_url(config.host)}:{config.port or DEFAULT_PORT}"

    async def connect(self) -> DeviceInfo:
        """Check the camera answers RTSP OPTIONS."""
        await self._probe(
            self._base + _path(self._config.options.get("main_path", "/"), "main_path")
        )
        return DeviceInfo(manufacturer="Generic", model="RTSP camera")

    async def _probe(self, url: str) -> None:
        port = self._config.port or DEFAULT_PORT
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._config.host, port), PROBE_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            raise DeviceUnavailable(f"cannot reach {self._config.host}:{port}: {exc}") from None
        try:
            writer.write(
                f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Doorstep\r\n\r\n".encode()
            )
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), PROBE_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise DeviceUnavailable(
                f"no RTSP answer from {self._config.host}:{port}: {exc}"
            ) from None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if not line.startswith(b"RTSP/1.0 ") or len(line) > MAX_STATUS_LINE:
            raise ProtocolError(f"{self._config.host}:{port} did not answer as an RTSP server")

    async def streams(self) -> Sequence[StreamSource]:
        """The configured main stream, and the sub stream if one is set."""
        password = self._config.password
        out = [
            StreamSource(
                name="main",
                url=self._base + _path(self._config.options.get("main_path", "/"), "main_path"),
                username=self._config.username,
                password=password,
            )
        ]
        if "sub_path" in self._config.options:
            out.append(
                StreamSource(
                    name="sub",
                    url=self._base + _path(self._config.options["sub_path"], "sub_path"),
                    username=self._config.username,
                    password=password,
                )
            )
        return out

    async def close(self) -> None:
        """Nothing is held open between calls."""


class RtspDriver:
    """Factory for `RtspCamera`s; registered as the `rtsp` driver."""

    name = "rtsp"
    api_version = API_VERSION

    def create(self, config: DeviceConfig, context: DriverContext) -> RtspCamera:
        """A camera for one configured RTSP device."""
        return RtspCamera(config, context)
