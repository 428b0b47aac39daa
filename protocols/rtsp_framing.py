"""RTSP over one TCP stream: interleaved `$` frames and text responses, taken off the front
of a buffer as they complete. Pure and bounded: a size a camera claims is checked before
anything waits for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_CHALLENGES = 8
MAX_BUFFERED = 4 + 65535 + MAX_HEADER_BYTES + MAX_BODY_BYTES
"""What may wait for the rest of a frame or a response; more means the camera lies."""


PacketSink = Callable[[bytearray, memoryview, int, int], None]
"""Takes the packet at `buffer[start:stop]` in place: (buffer, a memoryview of it, start, stop).
It must copy what it keeps, as the buffer is reused."""


class RtspError(Exception):
    """The RTSP exchange failed (network, protocol or a refused request)."""


class RtspBasicRefused(RtspError):
    """The server asked for Basic authentication over plain RTSP, and it was not allowed."""

    def __init__(self) -> None:
        super().__init__(
            "the camera asked for Basic authentication, which sends the password in clear; "
            "enable rtsp_allow_basic for this camera to accept it"
        )


class RtspStatusError(RtspError):
    """The server answered a request with a non-2xx status."""

    def __init__(self, method: str, status: int, reason: str) -> None:
        super().__init__(f"{method} answered {status} {reason}")
        self.status = status


@dataclass(frozen=True, slots=True)
class RtspResponse:
    """Status, headers (lower-case names) and body of an answer."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    challenges: tuple[str, ...] = field(default=())
    """Every WWW-Authenticate header (a server may offer several schemes)."""


def parse_head(head: bytes) -> tuple[int, str, dict[str, str], list[str]]:
    """Status, reason, headers (lower-case names) and Basic/Digest challenges of a response."""
    lines = head.decode("utf-8", "replace").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if (
        len(status_line) < 2
        or not status_line[0].startswith("RTSP/")
        or not (status_line[1].isascii() and status_line[1].isdigit())
    ):
        raise RtspError("not an RTSP response")
    headers: dict[str, str] = {}
    challenges: list[str] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers[key] = value.strip()
            if key == "www-authenticate" and len(challenges) < MAX_CHALLENGES:
                challenges.append(value.strip())
    reason = status_line[2] if len(status_line) > 2 else ""
    return int(status_line[1]), reason, headers, challenges


def take_frames(
    buffer: bytearray,
    keep_media: bool = True,
    end: int | None = None,
    sinks: dict[int, PacketSink] | None = None,
) -> tuple[int, list[tuple[int, bytes]], list[RtspResponse], int]:
    """The complete interleaved packets (channel, bytes) and responses at the front of
    `buffer` (its first `end` bytes; all of it by default), how many bytes they used (the
    rest waits for more), and how many packets went to `sinks`: a channel there has its packets
    handed to its sink where they lie instead of listed. `keep_media=False` skips the packets.
    RtspError for a response that is not RTSP or is too large."""
    with memoryview(buffer) as view:
        return _take(buffer, view, keep_media, len(buffer) if end is None else end, sinks or {})


def _take(
    buffer: bytearray, view: memoryview, keep_media: bool, end: int, sinks: dict[int, PacketSink]
) -> tuple[int, list[tuple[int, bytes]], list[RtspResponse], int]:
    packets: list[tuple[int, bytes]] = []
    responses: list[RtspResponse] = []
    sunk = 0
    pos = 0
    while pos < end:
        if buffer[pos] == 0x24:  # "$": channel, 16-bit length, the packet
            if end - pos < 4:
                break
            length = (buffer[pos + 2] << 8) | buffer[pos + 3]
            stop = pos + 4 + length
            if stop > end:
                break
            if keep_media:
                channel = buffer[pos + 1]
                sink = sinks.get(channel)
                if sink is not None:
                    sink(buffer, view, pos + 4, stop)
                    sunk += 1
                else:
                    packets.append((channel, bytes(view[pos + 4 : stop])))
            pos = stop
            continue
        taken = _response(buffer, pos, end)
        if taken is None:
            break
        response, pos = taken
        responses.append(response)
    return pos, packets, responses, sunk


def _response(buffer: bytearray, pos: int, end: int) -> tuple[RtspResponse, int] | None:
    """The response at `pos` and where it ends, or None while it is incomplete."""
    head_end = buffer.find(b"\r\n\r\n", pos, end)
    if head_end == -1:
        if end - pos > MAX_HEADER_BYTES:
            raise RtspError("response header too long")
        return None
    if head_end - pos > MAX_HEADER_BYTES:
        raise RtspError("response header too long")
    status, reason, headers, challenges = parse_head(bytes(buffer[pos : head_end + 4]))
    declared = headers.get("content-length", "0") or "0"
    if not (declared.isascii() and declared.isdigit()):
        raise RtspError("response body length is not a number")
    length = int(declared)
    if length > MAX_BODY_BYTES:
        raise RtspError("response body too large")
    body_end = head_end + 4 + length
    if body_end > end:
        return None
    body = bytes(buffer[head_end + 4 : body_end])
    return RtspResponse(status, reason, headers, body, tuple(challenges)), body_end
