"""Generic RTSP camera driver: live streams from a fixed RTSP path, no events.

Talk goes through the main stream's audio backchannel when the camera offers one (the ONVIF
backchannel is plain RTSP, and some RTSP-only cameras have it); that is known only when tried.

For cameras that speak RTSP but not ONVIF (or whose ONVIF is broken). Options (`RtspOptions`):
`main_path` (default `/`), optional `sub_path`. The camera's reachability is checked with an
RTSP OPTIONS request, which needs no credentials on most cameras.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Annotated
from urllib.parse import quote

from pydantic import AfterValidator, Field

from doorstep.protocols.backchannel import NoBackchannel, RtspBackchannel
from doorstep.protocols.rtsp_client import RtspError
from doorstep.sdk import (
    API_VERSION,
    DeviceConfig,
    DeviceInfo,
    DeviceUnavailable,
    DriverContext,
    DriverOptions,
    ProtocolError,
    StreamSource,
    TalkSink,
    Unsupported,
    read_options,
)

DEFAULT_PORT = 554
PROBE_TIMEOUT_S = 5.0
MAX_STATUS_LINE = 256


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _absolute_path(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in " \r\n#"):
        raise ValueError("must be an absolute RTSP path such as /stream1")
    return value


RtspPath = Annotated[str, Field(max_length=1024), AfterValidator(_absolute_path)]


class RtspOptions(DriverOptions):
    """The RTSP driver's options: where the streams are on the camera."""

    main_path: RtspPath = Field("/", description="Path of the main stream, e.g. /stream1.")
    sub_path: RtspPath | None = Field(None, description="Path of the sub stream, if any.")


def _quoted(path: str) -> str:
    return quote(path, safe="/?=&;:%@!$'()*+,-._~")


class RtspCamera:
    """A camera known only by its RTSP URL(s)."""

    def __init__(self, config: DeviceConfig, context: DriverContext) -> None:
        self._config = config
        self._options = read_options(RtspOptions, config)
        self._log = context.logger
        self._allow_basic = context.rtsp_allow_basic
        self._base = f"rtsp://{_host_for_url(config.host)}:{config.port or DEFAULT_PORT}"
        self._probes = 0
        self._last_probe: str | None = None

    async def connect(self) -> DeviceInfo:
        """Check the camera answers RTSP OPTIONS."""
        await self._probe(self._base + _quoted(self._options.main_path))
        return DeviceInfo(manufacturer="Generic", model="RTSP camera")

    async def _probe(self, url: str) -> None:
        port = self._config.port or DEFAULT_PORT
        self._probes += 1
        self._last_probe = "failed"
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
        self._last_probe = line[9:].decode("ascii", "replace").strip()

    async def streams(self) -> Sequence[StreamSource]:
        """The configured main stream, and the sub stream if one is set."""
        password = self._config.password
        paths = {"main": self._options.main_path, "sub": self._options.sub_path}
        return [
            StreamSource(
                name=name,
                url=self._base + _quoted(path),
                username=self._config.username,
                password=password,
            )
            for name, path in paths.items()
            if path is not None
        ]

    async def open_talk(self) -> TalkSink:
        """The main stream's audio backchannel; `Unsupported` when the camera has none."""
        main = (await self.streams())[0]
        password = main.password.get_secret_value() if main.password else None
        try:
            return await RtspBackchannel.open(
                main.url, main.username, password, allow_basic=self._allow_basic
            )
        except NoBackchannel as exc:
            raise Unsupported(str(exc)) from None
        except RtspError as exc:
            raise DeviceUnavailable(f"cannot open the camera's speaker: {exc}") from None

    async def diagnostics(self) -> Mapping[str, object]:
        """The configured stream URLs and the outcome of the RTSP probes."""
        return {
            "streams": [s.url for s in await self.streams()],
            "probes": self._probes,
            "last_probe_status": self._last_probe,
        }

    async def close(self) -> None:
        """Nothing is held open between calls."""


class RtspDriver:
    """Factory for `RtspCamera`s; registered as the `rtsp` driver."""

    name = "rtsp"
    api_version = API_VERSION
    options_model = RtspOptions
    needs_host = True

    def create(self, config: DeviceConfig, context: DriverContext) -> RtspCamera:
        """A camera for one configured RTSP device."""
        return RtspCamera(config, context)
