"""The gateway's asyncio RTSP client: Digest auth, TCP-interleaved RTP, keep-alive, teardown,
and the ONVIF audio backchannel (`Require: www.onvif.org/ver20/backchannel`), which no Python
RTSP library offers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import struct
from urllib.parse import urljoin, urlsplit

from doorstep.protocols.digest import (
    basic_authorization,
    digest_authorization,
    parse_params,
    split_scheme,
)
from doorstep.protocols.h264 import AccessUnit, H264Depacketizer
from doorstep.protocols.rtsp_connection import COALESCE_S, RtspConnection
from doorstep.protocols.rtsp_framing import (
    RtspBasicRefused,
    RtspError,
    RtspResponse,
    RtspStatusError,
)
from doorstep.protocols.rtsp_media_queue import MediaQueue
from doorstep.protocols.sdp import SdpMedia, parse_sdp

__all__ = ["BACKCHANNEL", "COALESCE_S", "PACKET_QUEUE_BYTES", "RtspBasicRefused", "RtspClient",
           "RtspError", "RtspResponse", "RtspStatusError"]  # fmt: skip

_log = logging.getLogger(__name__)

BACKCHANNEL = "www.onvif.org/ver20/backchannel"
DEFAULT_TIMEOUT_S = 10.0
PACKET_QUEUE_BYTES = 8 * 1024 * 1024
"""Received packets waiting for the reader, in bytes; past it the oldest are dropped."""
MAX_UNSENT_BYTES = 256 * 1024
"""What may wait to go out to a camera (talk at 8 kB/s: half a minute) before sends are dropped."""


class RtspClient:
    """One RTSP session over one TCP connection."""

    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        timeout: float = DEFAULT_TIMEOUT_S,
        *,
        allow_basic: bool = False,
        max_queue_bytes: int = PACKET_QUEUE_BYTES,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "rtsp" or not parts.hostname:
            raise RtspError("only rtsp:// URLs are supported")
        if parts.username or parts.password:
            raise RtspError("pass credentials separately, not inside the URL")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 554
        self.username = username
        self.password = password
        self.timeout = timeout
        self.allow_basic = allow_basic
        """Answer a Basic challenge. Off by default: over plain rtsp:// (the only scheme
        supported so far; Basic over rtsps:// would be safe) it hands the password to whoever
        answers as the camera."""
        self.session: str | None = None
        self.session_timeout = 60
        self.base_url = url
        self._cseq = 0
        self._auth: dict[str, str] | None = None
        self._auth_scheme = ""
        self._connection: RtspConnection | None = None
        self._pending: dict[int, asyncio.Future[RtspResponse]] = {}
        self._received = MediaQueue(max_queue_bytes)
        self._video: tuple[int, H264Depacketizer] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self._coalesce_s = COALESCE_S
        self.unsent_dropped = 0
        """Backchannel packets not sent because the camera had stopped reading."""
        self.keep_media = True
        """False: interleaved packets are read and thrown away (a backchannel sends, and a
        camera's RTCP to it must not pile up unread). Set before `connect`."""

    async def connect(self) -> None:
        """Open the TCP connection."""
        loop = asyncio.get_running_loop()
        connection = RtspConnection(self._received.add, self._answered, self._lost)
        connection.keep_media = self.keep_media
        connection.coalesce_s = self._coalesce_s
        if self._video is not None:
            connection.sinks[self._video[0]] = self._video[1].push_from
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: connection, self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise RtspError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self._connection = connection

    @property
    def coalesce_s(self) -> float:
        """How long media gathers in the socket between two reads (see `COALESCE_S`)."""
        return self._coalesce_s

    @coalesce_s.setter
    def coalesce_s(self, seconds: float) -> None:
        self._coalesce_s = seconds
        if self._connection is not None:
            self._connection.coalesce_s = seconds

    def read_soon(self) -> None:
        """Read what the camera sent without waiting for the pace (see `RtspConnection`)."""
        if self._connection is not None:
            self._connection.read_soon()

    # -- reading -------------------------------------------------------------------------
    def receive_video(self, channel: int, depacketizer: H264Depacketizer) -> None:
        """Depacketize the H.264 video of `channel` as it is read: its access units come from
        `media`, its packets never from `packets`.

        Each packet goes from the read buffer into its frame, with no copy or queue entry of
        its own: the video is ~90 % of a camera's packets, and this is most of what reading a
        stream costs."""
        self._video = (channel, depacketizer)
        self._received.video = depacketizer
        if self._connection is not None:
            self._connection.sinks[channel] = depacketizer.push_from

    @property
    def dropped(self) -> int:
        """Packets and frames a reader that fell behind lost to the byte budget."""
        return self._received.dropped

    @property
    def queued_bytes(self) -> int:
        """Bytes of packets and frames waiting for the reader."""
        return self._received.queued_bytes

    async def packets(self, wait_s: float | None = None) -> list[tuple[int, bytes]]:
        """Every interleaved (channel, packet) queued, waiting for one if none is; for one
        reader. RtspError if the connection closed (or nothing came in `wait_s`)."""
        return await self._received.packets(wait_s)

    async def media(
        self, wait_s: float | None = None
    ) -> tuple[list[AccessUnit], list[tuple[int, bytes]]]:
        """Every access unit of `receive_video`'s channel and every other packet queued,
        waiting for one of either if none is; for one reader. RtspError as for `packets`."""
        return await self._received.media(wait_s)

    async def packet(self, wait_s: float | None = None) -> tuple[int, bytes]:
        """The next interleaved (channel, RTP/RTCP packet), for one reader; RtspError if closed."""
        return await self._received.packet(wait_s)

    def _answered(self, response: RtspResponse) -> None:
        cseq = response.headers.get("cseq", "")
        future = self._pending.pop(int(cseq), None) if cseq.isascii() and cseq.isdigit() else None
        if future is not None and not future.done():
            future.set_result(response)

    def _lost(self, exc: Exception | None) -> None:
        why = type(exc).__name__ if exc is not None else "closed by the camera"
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RtspError(f"connection lost: {why}"))
        self._pending.clear()
        self._received.close()

    # -- requests ------------------------------------------------------------------------
    def _authorization(self, method: str, uri: str) -> str | None:
        if self._auth is None or self.username is None:
            return None
        if self._auth_scheme == "basic":
            return basic_authorization(self.username, self.password or "")
        return digest_authorization(self._auth, self.username, self.password or "", method, uri)

    async def request(
        self, method: str, uri: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> RtspResponse:
        """Send a request (answering one auth challenge) and return a 2xx response."""
        for attempt in range(2):
            response = await self._send(method, uri, headers or {}, body)
            if response.status == 401 and attempt == 0 and self.username is not None:
                self._accept_challenge(response.challenges)
                continue
            if not 200 <= response.status < 300:
                raise RtspStatusError(method, response.status, response.reason)
            return response
        raise RtspStatusError(method, 401, "Unauthorized")

    def _accept_challenge(self, challenges: tuple[str, ...]) -> None:
        """Pick Digest when offered; Basic only when allowed (RtspBasicRefused otherwise)."""
        by_scheme: dict[str, str] = {}
        for challenge in challenges:
            scheme, params = split_scheme(challenge)
            by_scheme.setdefault(scheme, params)
        if "digest" in by_scheme:
            scheme = "digest"
        elif "basic" in by_scheme:
            if not self.allow_basic:
                raise RtspBasicRefused
            scheme = "basic"
        elif not by_scheme:
            raise RtspError("the camera answered 401 without an authentication challenge")
        else:
            raise RtspError("the camera asked for an authentication scheme Doorstep does not know")
        self._auth_scheme = scheme
        self._auth = parse_params(by_scheme[scheme])

    async def _send(
        self, method: str, uri: str, headers: dict[str, str], body: bytes
    ) -> RtspResponse:
        transport = self._transport()
        self._cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self._cseq}", "User-Agent: Doorstep"]
        authorization = self._authorization(method, uri)
        if authorization:
            lines.append(f"Authorization: {authorization}")
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        future: asyncio.Future[RtspResponse] = asyncio.get_running_loop().create_future()
        self._pending[self._cseq] = future
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self._pending.pop(self._cseq, None)
            raise RtspError(f"{method} timed out") from None

    async def describe(self, backchannel: bool = False) -> list[SdpMedia]:
        """DESCRIBE the stream; with `backchannel`, ask for the ONVIF audio backchannel too."""
        headers = {"Accept": "application/sdp"}
        if backchannel:
            headers["Require"] = BACKCHANNEL
        response = await self.request("DESCRIBE", self.url, headers)
        base = (
            response.headers.get("content-base")
            or response.headers.get("content-location")
            or self.url
        )
        self.base_url = self._same_server(base)
        return parse_sdp(response.body.decode("utf-8", "replace"))

    def _same_server(self, url: str) -> str:
        try:
            parts = urlsplit(url)
            port = parts.port or 554
        except ValueError:  # a port past 65535 or not a number, a broken [v6] host
            raise RtspError("the camera sent an unusable URL; refused") from None
        if (parts.hostname, port) != (self.host, self.port):
            raise RtspError("the camera pointed the session at another server; refused")
        return url

    def control_url(self, media: SdpMedia) -> str:
        """Absolute URL of a media section's control attribute (must stay on this server)."""
        if not media.control or media.control == "*":
            return self.base_url
        if media.control.startswith("rtsp://"):
            return self._same_server(media.control)
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return self._same_server(urljoin(base, media.control))

    async def setup(self, media: SdpMedia, channel: int, backchannel: bool = False) -> None:
        """SETUP one track on interleaved channels (channel, channel+1)."""
        headers = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"}
        if backchannel:
            headers["Require"] = BACKCHANNEL
        response = await self.request("SETUP", self.control_url(media), headers)
        session = response.headers.get("session", "")
        if session:
            self.session, _, params = session.partition(";")
            found = re.search(r"timeout=(\d+)", params)
            if found:
                self.session_timeout = max(5, int(found.group(1)))

    async def play(self, backchannel: bool = False) -> None:
        """PLAY, then keep the session alive until closed."""
        headers = {"Range": "npt=0.000-"}
        if backchannel:
            # No Range: GStreamer's ONVIF server fails a seek on backchannel sessions (503).
            headers = {"Require": BACKCHANNEL}
        await self.request("PLAY", self.base_url, headers)
        if self._keepalive_task is None:
            self._keepalive_task = asyncio.create_task(self._keepalive())

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.session_timeout / 2)
            try:
                await self.request("GET_PARAMETER", self.base_url)
            except RtspStatusError:
                await self.request("OPTIONS", self.base_url)

    def send(self, channel: int, packet: bytes) -> None:
        """Send one RTP packet on an interleaved channel (the backchannel)."""
        transport = self._transport()
        if transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            self.unsent_dropped += 1  # the camera stopped reading: lose talk, not memory
            return
        transport.write(struct.pack("!cBH", b"$", channel, len(packet)) + packet)

    def _transport(self) -> asyncio.Transport:
        connection = self._connection
        if connection is None or connection.transport is None or self._received.closed:
            raise RtspError("not connected")
        return connection.transport

    async def close(self) -> None:
        """TEARDOWN (best effort) and close the connection.

        Safe to cancel or time out at any point: the socket and the reader task are released
        regardless (a backchannel left open can keep a doorbell's button busy).
        """
        try:
            if self._keepalive_task is not None:
                self._keepalive_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RtspError):
                    await self._keepalive_task
                self._keepalive_task = None
            if self.session and not self._received.closed:
                with contextlib.suppress(RtspError, TimeoutError):
                    await asyncio.wait_for(self.request("TEARDOWN", self.base_url), 2)
            connection = self._connection
            if connection is not None and connection.transport is not None:
                connection.transport.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(connection.closed), 2)
        finally:
            connection = self._connection
            if (
                connection is not None
                and connection.transport is not None
                and not connection.closed.done()
            ):
                # Not once it is gone: a transport that closed by draining what it had to send
                # has no loop left, and aborting it raises (CPython 3.11).
                connection.transport.abort()

    async def __aenter__(self) -> RtspClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
