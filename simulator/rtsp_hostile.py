"""Hostile RTSP behaviour for a simulated camera: what a broken or malicious camera sends.

Set `RtspSettings.hostile` to one of `RTSP_HOSTILE_MODES`; tests use it to prove the gateway
stays bounded in memory and logs, keeps other cameras flowing, and retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Coroutine
from typing import Any, Protocol

from doorstep.protocols.rtp import RtpStream, interleave
from doorstep.simulator.media import VideoLoop
from doorstep.simulator.rtsp_settings import RtspSettings

REQUEST_MODES = frozenset(
    {"huge_header", "content_length_past_body", "redirect_loop", "slow_loris", "silent"}
)
"""Modes that spoil the answer to DESCRIBE (and every later request)."""
SDP_MODES = frozenset({"empty_sprop", "huge_sprop"})
STREAM_MODES = frozenset(
    {"huge_frames", "play_then_drop", "bad_rtp", "interleaved_extremes", "slow_loris_media"}
)
RTSP_HOSTILE_MODES = REQUEST_MODES | SDP_MODES | STREAM_MODES

HUGE_HEADER_BYTES = 10 * 1024 * 1024
HUGE_SPROP_BYTES = 48 * 1024  # under the gateway's 64 KiB body cap, so the SDP is read
FU_A_CHUNK = 60_000  # interleaved frames can carry 64 KiB: fewer, fatter packets
PLAY_THEN_DROP_S = 0.3
JUNK_INTERVAL_S = 0.05
_FU_A, _NON_IDR_SLICE = 28, 1


class RtspConnection(Protocol):
    """What the hostile modes use of a client connection (rtsp_server.RtspConnection)."""

    settings: RtspSettings
    writer: asyncio.StreamWriter
    loop: VideoLoop | None
    channels: dict[int, tuple[int, int]]

    async def stream_loop(self, loop: VideoLoop, video: RtpStream, audio: RtpStream) -> None:
        """The normal stream, in real time."""
        ...


def sprop(mode: str | None, real: str) -> str:
    """The sprop-parameter-sets value to put in the SDP."""
    if mode == "empty_sprop":
        return ""
    if mode == "huge_sprop":
        junk = secrets.token_urlsafe(HUGE_SPROP_BYTES)[:HUGE_SPROP_BYTES]
        return f"{real},{junk},Z{junk[:1000]},,==,aGVsbG8"
    return real


async def answer(connection: RtspConnection, url: str, cseq: str, mode: str) -> None:
    """Answer a request the way `mode` says (REQUEST_MODES)."""
    writer = connection.writer
    with contextlib.suppress(ConnectionError, OSError):
        if mode == "huge_header":
            writer.write(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n".encode())
            line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
            for _ in range(HUGE_HEADER_BYTES // len(line)):
                if writer.is_closing():
                    return
                writer.write(line)
                await writer.drain()
            writer.write(b"\r\n")
        elif mode == "content_length_past_body":
            writer.write(
                f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n"
                "Content-Length: 60000\r\n\r\nv=0\r\n".encode()
            )
        elif mode == "redirect_loop":
            writer.write(f"RTSP/1.0 302 Found\r\nCSeq: {cseq}\r\nLocation: {url}\r\n\r\n".encode())
        elif mode == "slow_loris":
            for byte in f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n".encode():
                if writer.is_closing():
                    return
                writer.write(bytes((byte,)))
                await writer.drain()
                await asyncio.sleep(1.0)
        # "silent": read requests, never answer.
        await writer.drain()


def stream(
    connection: RtspConnection, mode: str, video: RtpStream, audio: RtpStream
) -> Coroutine[Any, Any, None]:
    """The coroutine that streams after PLAY in one of STREAM_MODES."""
    if mode == "huge_frames":
        return _huge_frames(connection, video, audio)
    if mode == "play_then_drop":
        return _play_then_drop(connection, video, audio)
    if mode == "slow_loris_media":
        return _trickle(connection)
    junk = _bad_rtp(video) if mode == "bad_rtp" else _extreme_frames()
    return _with_junk(connection, video, audio, junk)


def _channel(connection: RtspConnection) -> int:
    return connection.channels.get(0, (0, 1))[0]


async def _huge_frames(connection: RtspConnection, video: RtpStream, audio: RtpStream) -> None:
    """One real IDR, then `hostile_frames` frames of `hostile_frame_bytes` junk, then normal."""
    settings, writer = connection.settings, connection.writer
    loop = connection.loop
    if loop is None:  # PLAY is refused before DESCRIBE
        return
    channel = _channel(connection)
    first = settings.payloads(loop)[0]
    writer.write(b"".join(interleave(channel, video.packet(p, m)) for p, m in first))
    body = secrets.token_bytes(settings.hostile_frame_bytes)
    interval = 1 / settings.hostile_fps
    for _ in range(settings.hostile_frames):
        video.timestamp = (video.timestamp + 3000) & 0xFFFFFFFF
        for offset in range(0, len(body), FU_A_CHUNK):
            start = 0x80 if offset == 0 else 0
            end = 0x40 if offset + FU_A_CHUNK >= len(body) else 0
            header = bytes((0x60 | _FU_A, start | end | _NON_IDR_SLICE))
            packet = video.packet(header + body[offset : offset + FU_A_CHUNK], bool(end))
            writer.write(interleave(channel, packet))
            await writer.drain()  # the simulator's own memory stays flat
        settings.hostile_sent += 1
        await asyncio.sleep(interval)
    await connection.stream_loop(loop, video, audio)


async def _play_then_drop(connection: RtspConnection, video: RtpStream, audio: RtpStream) -> None:
    loop = connection.loop
    if loop is None:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(connection.stream_loop(loop, video, audio), PLAY_THEN_DROP_S)
    connection.writer.transport.abort()


async def _trickle(connection: RtspConnection) -> None:
    """Slow-loris on the media: an interleaved frame header, a byte a second."""
    for byte in b"$\x00\x05\xdc" + b"\x80" * 1500:
        if connection.writer.is_closing():
            return
        connection.writer.write(bytes((byte,)))
        await asyncio.sleep(1.0)


def _bad_rtp(video: RtpStream) -> list[bytes]:
    """RTP packets whose CSRC, extension or padding lengths point past their end."""
    base = video.packet(b"\x65\x00", False)
    many_csrc = bytes((0x8F,)) + base[1:]  # 15 CSRCs in a 14-byte packet
    extension = bytes((0x90,)) + base[1:12] + b"\xbe\xde\xff\xff"  # 65535 words of extension
    padding = bytes((0xA0,)) + base[1:] + b"\xff"  # 255 bytes of padding in a 15-byte packet
    zero_padding = bytes((0xA0,)) + base[1:] + b"\x00"
    return [many_csrc, extension, padding, zero_padding, base[:5]]


def _extreme_frames() -> list[bytes]:
    """Interleaved frames of length 0 and 65535 (on the video and the RTCP channel)."""
    return [b"", bytes(65535), secrets.token_bytes(65535)]


async def _with_junk(
    connection: RtspConnection, video: RtpStream, audio: RtpStream, junk: list[bytes]
) -> None:
    """The normal stream, with junk packets written between its frames."""
    loop = connection.loop
    if loop is None:
        return
    channel = _channel(connection)
    normal = asyncio.create_task(connection.stream_loop(loop, video, audio))
    try:
        while not normal.done():
            for index, packet in enumerate(junk):
                # The last extreme frame goes to the RTCP channel, the others to video.
                target = channel + 1 if index == len(junk) - 1 and len(packet) > 1000 else channel
                connection.writer.write(interleave(target, packet))
            await connection.writer.drain()
            await asyncio.sleep(JUNK_INTERVAL_S)
    finally:
        normal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await normal
