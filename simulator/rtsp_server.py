# Over 400 lines: one RTSP server state machine; splitting it would scatter one protocol.
"""An asyncio RTSP server for simulated cameras: TCP-interleaved RTP, Digest auth, ONVIF backchannel.

Serves pre-encoded H.264 plus a G.711 µ-law tone; with `Require: www.onvif.org/ver20/backchannel`
it offers a third, `a=sendonly` audio track and records what the client sends on it. Hostile
modes (`RtspSettings.hostile`, see rtsp_hostile.py) make it misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from doorstep.protocols.digest import check_basic, check_digest, digest_challenge
from doorstep.protocols.rtp import RtpError, RtpStream, interleave, parse_rtp
from doorstep.simulator import rtsp_hostile
from doorstep.simulator.media import ULAW_FRAME_SAMPLES, ULAW_SAMPLE_RATE, VideoLoop
from doorstep.simulator.rtsp_settings import RtspSettings

_log = logging.getLogger(__name__)

BACKCHANNEL_TAG = "www.onvif.org/ver20/backchannel"
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_RECORDED = 100
SESSION_TIMEOUT_S = 60
SEND_BUFFER_LIMIT = 4 * 1024 * 1024  # past this a slow reader loses frames up to the next IDR
VIDEO_CLOCK = 90_000
PCMU = 0
H264_PT = 96
_TRACK = re.compile(r"/trackID=(\d+)$")


@dataclass
class _Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")


class RtspConnection:
    """One client connection: request handling, then streaming while PLAYing."""

    def __init__(
        self,
        settings: RtspSettings,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.writer = writer
        self.nonce = secrets.token_hex(16)
        self.session_id = secrets.token_hex(8)
        self.loop: VideoLoop | None = None
        self.base_url = ""
        self.backchannel_requested = False
        self.channels: dict[int, tuple[int, int]] = {}  # track → (rtp, rtcp) channel
        self.streamer: asyncio.Task[None] | None = None
        self.last_activity = time.monotonic()

    async def serve(self) -> None:
        """Handle requests and interleaved data until the client leaves."""
        try:
            while True:
                first = await self.reader.readexactly(1)
                self.last_activity = time.monotonic()
                if first == b"$":
                    await self._receive_interleaved()
                    continue
                request = await self._read_request(first)
                if request is None:
                    return
                await self._respond(request)
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            pass
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop streaming and close the socket."""
        if self.streamer is not None:
            self.streamer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.streamer
            self.streamer = None
        self.writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self.writer.wait_closed()

    async def _receive_interleaved(self) -> None:
        header = await self.reader.readexactly(3)
        channel, length = header[0], int.from_bytes(header[1:3], "big")
        data = await self.reader.readexactly(length)
        backchannel = self.channels.get(2)
        if backchannel is None or channel != backchannel[0]:
            return  # RTCP receiver reports and the like
        try:
            packet = parse_rtp(data)
        except RtpError:
            return
        if packet.payload_type == PCMU:
            self.settings.recorder.audio.extend(packet.payload)
            self.settings.recorder.packets += 1

    async def _read_request(self, first: bytes) -> _Request | None:
        head = first + await self.reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            return None
        lines = head.decode("utf-8", "replace").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("RTSP/"):
            return None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        if not 0 <= length <= MAX_BODY_BYTES:
            return None
        body = await self.reader.readexactly(length) if length else b""
        return _Request(parts[0].upper(), parts[1], headers, body)

    def _reply(
        self,
        request: _Request,
        status: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        lines = [f"RTSP/1.0 {status}", f"CSeq: {request.cseq}", "Server: Doorstep-Simulator"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _authorized(self, request: _Request) -> bool:
        header = request.headers.get("authorization", "")
        s = self.settings
        if header:
            s.authorizations.append(header)
            del s.authorizations[:-MAX_RECORDED]
        if s.auth_scheme == "basic":
            return check_basic(header, username=s.username, password=s.password)
        return check_digest(
            header, username=s.username, password=s.password, realm=s.realm,
            method=request.method, nonce_ok=lambda nonce: nonce == self.nonce,
        )  # fmt: skip

    async def _respond(self, request: _Request) -> None:
        if request.method == "OPTIONS":
            self._reply(
                request,
                "200 OK",
                {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"},
            )
            return
        mode = self.settings.hostile
        if mode is not None and mode in rtsp_hostile.REQUEST_MODES:
            await rtsp_hostile.answer(self, request.url, request.cseq, mode)
            return
        if not self._authorized(request):
            challenge = digest_challenge(self.settings.realm, self.nonce, qop=False)
            if self.settings.auth_scheme == "basic":
                challenge = f'Basic realm="{self.settings.realm}"'
            self._reply(request, "401 Unauthorized", {"WWW-Authenticate": challenge})
            return
        handler: Callable[[_Request], None] | None = {
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._keepalive,
            "SET_PARAMETER": self._keepalive,
        }.get(request.method)
        if handler is None:
            self._reply(request, "405 Method Not Allowed")
            return
        handler(request)

    def _describe(self, request: _Request) -> None:
        url = urlsplit(request.url)
        loop = self.settings.loops.get(url.path.rstrip("/"))
        if loop is None:
            self._reply(request, "404 Not Found")
            return
        wants_backchannel = BACKCHANNEL_TAG in request.headers.get("require", "")
        if wants_backchannel and not self.settings.backchannel:
            self._reply(request, "551 Option not supported", {"Unsupported": BACKCHANNEL_TAG})
            return
        self.loop = loop
        self.backchannel_requested = wants_backchannel
        self.base_url = request.url.rstrip("/")
        sdp = [
            "v=0",
            f"o=- {self.session_id} 1 IN IP4 127.0.0.1",
            "s=Doorstep simulated camera",
            "c=IN IP4 0.0.0.0",
            "t=0 0",
            "a=control:*",
            "a=range:npt=0-",
            f"m=video 0 RTP/AVP {H264_PT}",
            f"a=rtpmap:{H264_PT} H264/{VIDEO_CLOCK}",
            f"a=fmtp:{H264_PT} packetization-mode=1;profile-level-id={loop.profile_level_id};"
            f"sprop-parameter-sets={rtsp_hostile.sprop(self.settings.hostile, loop.sprop_parameter_sets)}",
            f"a=framerate:{loop.fps}",
            "a=recvonly",
            "a=control:trackID=0",
            f"m=audio 0 RTP/AVP {PCMU}",
            f"a=rtpmap:{PCMU} PCMU/{ULAW_SAMPLE_RATE}",
            "a=recvonly",
            "a=control:trackID=1",
        ]
        if wants_backchannel:
            sdp += [
                f"m=audio 0 RTP/AVP {PCMU}",
                f"a=rtpmap:{PCMU} PCMU/{ULAW_SAMPLE_RATE}",
                "a=sendonly",  # ONVIF: the client sends on this track
                "a=control:trackID=2",
            ]
        body = ("\r\n".join(sdp) + "\r\n").encode()
        self._reply(
            request,
            "200 OK",
            {"Content-Type": "application/sdp", "Content-Base": self.base_url + "/"},
            body,
        )

    def _setup(self, request: _Request) -> None:
        match = _TRACK.search(urlsplit(request.url).path)
        track = int(match.group(1)) if match else -1
        highest = 2 if self.backchannel_requested else 1
        if self.loop is None or not 0 <= track <= highest:
            self._reply(request, "404 Not Found")
            return
        session = request.headers.get("session", "").split(";")[0]
        if self.channels and session != self.session_id:
            self._reply(request, "454 Session Not Found")
            return
        transport = request.headers.get("transport", "")
        if "RTP/AVP/TCP" not in transport.upper():
            self._reply(request, "461 Unsupported Transport")  # clients fall back to TCP
            return
        found = re.search(r"interleaved=(\d+)-(\d+)", transport)
        channels = (
            (int(found.group(1)), int(found.group(2))) if found else (2 * track, 2 * track + 1)
        )
        self.channels[track] = channels
        self._reply(
            request,
            "200 OK",
            {
                "Transport": f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]}",
                "Session": f"{self.session_id};timeout={SESSION_TIMEOUT_S}",
            },
        )

    def _play(self, request: _Request) -> None:
        if not self.channels or self.loop is None:
            self._reply(request, "455 Method Not Valid in This State")
            return
        video = RtpStream(H264_PT, secrets.randbits(32), secrets.randbits(16), secrets.randbits(32))
        audio = RtpStream(PCMU, secrets.randbits(32), secrets.randbits(16), secrets.randbits(32))
        info = []
        for track, stream in ((0, video), (1, audio)):
            if track in self.channels:
                info.append(
                    f"url={self.base_url}/trackID={track};seq={stream.sequence};rtptime={stream.timestamp}"
                )
        headers = {"Session": self.session_id, "Range": "npt=0.000-"}
        if info:
            headers["RTP-Info"] = ",".join(info)
        self._reply(request, "200 OK", headers)
        if 2 in self.channels:
            self.settings.recorder.sessions += 1
        if self.streamer is None:
            mode = self.settings.hostile
            streaming = (
                rtsp_hostile.stream(self, mode, video, audio)
                if mode is not None and mode in rtsp_hostile.STREAM_MODES
                else self.stream_loop(self.loop, video, audio)
            )
            self.streamer = asyncio.create_task(streaming)

    def _teardown(self, request: _Request) -> None:
        if self.streamer is not None:
            self.streamer.cancel()
            self.streamer = None
        self.channels.clear()
        self._reply(request, "200 OK", {"Session": self.session_id})

    def _keepalive(self, request: _Request) -> None:
        self._reply(request, "200 OK", {"Session": self.session_id})

    async def stream_loop(self, loop: VideoLoop, video: RtpStream, audio: RtpStream) -> None:
        """Send video frames and 20 ms audio packets in real time, looping the media."""
        payloads = self.settings.payloads(loop)
        count = len(loop.frames)
        gop = next((i for i in range(1, count) if loop.frames[i].keyframe), count)
        # Join the loop where every other viewer is, at the last keyframe.
        position = int((time.monotonic() - self.settings.started_at) * loop.fps) % count
        first = position - position % gop
        video_channel = self.channels.get(0, (None, None))[0]
        audio_channel = self.channels.get(1, (None, None))[0]
        tone = self.settings.audio
        video_base, audio_base = video.timestamp, audio.timestamp
        started = time.monotonic()
        sent_frames = sent_audio = 0
        waiting_for_keyframe = False
        transport = self.writer.transport
        while True:
            next_video = started + sent_frames / loop.fps
            next_audio = started + sent_audio * ULAW_FRAME_SAMPLES / ULAW_SAMPLE_RATE
            now = time.monotonic()
            if now - self.last_activity > SESSION_TIMEOUT_S:
                _log.info("RTSP session %s timed out", self.session_id)
                self.writer.close()
                return
            due = min(next_video, next_audio)
            if due > now:
                await asyncio.sleep(due - now)
            if next_video <= next_audio:
                index = (first + sent_frames) % count
                video.timestamp = (video_base + sent_frames * VIDEO_CLOCK // loop.fps) & 0xFFFFFFFF
                sent_frames += 1
                if video_channel is None:
                    continue
                if transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
                    waiting_for_keyframe = True
                    continue
                if waiting_for_keyframe and not loop.frames[index].keyframe:
                    continue
                waiting_for_keyframe = False
                self.writer.write(
                    b"".join(
                        interleave(video_channel, video.packet(p, m)) for p, m in payloads[index]
                    )
                )
            else:
                offset = (sent_audio * ULAW_FRAME_SAMPLES) % len(tone)
                audio.timestamp = (audio_base + sent_audio * ULAW_FRAME_SAMPLES) & 0xFFFFFFFF
                sent_audio += 1
                if (
                    audio_channel is not None
                    and transport.get_write_buffer_size() <= SEND_BUFFER_LIMIT
                ):
                    chunk = tone[offset : offset + ULAW_FRAME_SAMPLES]
                    self.writer.write(interleave(audio_channel, audio.packet(chunk, False)))


class RtspServer:
    """Listens for RTSP clients of one simulated camera."""

    def __init__(self, settings: RtspSettings) -> None:
        self.settings = settings
        self._server: asyncio.Server | None = None
        self._connections: set[RtspConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def active_sessions(self) -> int:
        """Connections currently open."""
        return len(self._connections)

    async def start(self, host: str, port: int) -> int:
        """Start listening; returns the port (useful when `port` is 0)."""
        self._server = await asyncio.start_server(
            self._accept, host, port, limit=MAX_HEADER_BYTES, reuse_address=True
        )
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.settings.connections += 1
        connection = RtspConnection(self.settings, reader, writer)
        self._connections.add(connection)
        try:
            await connection.serve()
        finally:
            self._connections.discard(connection)

    async def stop(self) -> None:
        """Stop listening and drop every session (what a reboot does)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            await connection.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None
