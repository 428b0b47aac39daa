"""RTSP over one TCP stream: interleaved `$` frames and text responses, taken off the front
of a buffer as they complete. Pure and bounded: a size a camera claims is checked before
anything waits for it."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
MAX_CHALLENGES = 8
MAX_BUFFERED = 4 + 65535 + MAX_HEADER_BYTES + MAX_BODY_BYTES
"""What may wait for the rest of a frame or a response; more means the camera lies."""


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
    buffer: bytearray, keep_media: bool = True, end: int | None = None
) -> tuple[int, list[tuple[int, bytes]], list[RtspResponse]]:
    """The complete interleaved packets (channel, bytes) and responses at the front of
    `buffer` (its first `end` bytes; all of it by default), and how many bytes they used (the
    rest waits for more). `keep_media=False` skips the packets. RtspError for a response that
    is not RTSP or is too large."""
    with memoryview(buffer) as view:
        return _take(buffer, view, keep_media, len(buffer) if end is None else end)


def _take(
    buffer: bytearray, view: memoryview, keep_media: bool, end: int
) -> tuple[int, list[tuple[int, bytes]], list[RtspResponse]]:
    packets: list[tuple[int, bytes]] = []
    responses: list[RtspResponse] = []
    pos = 0
    while pos < end:
        if buffer[pos] == 0x24:  # "$": channel, 16-bit length, the packet
            if end - pos < 4:
                break
            length = (buffer[pos + 2] << 8) | buffer[pos + 3]
            if end - pos < 4 + length:
                break
            if keep_media:
                packets.append((buffer[pos + 1], bytes(view[pos + 4 : pos + 4 + length])))
            pos += 4 + length
            continue
        head_end = buffer.find(b"\r\n\r\n", pos, end)
        if head_end == -1:
            if end - pos > MAX_HEADER_BYTES:
                raise RtspError("response header too long")
            break
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
            break
        body = bytes(buffer[head_end + 4 : body_end])
        responses.append(RtspResponse(status, reason, headers, body, tuple(challenges)))
        pos = body_end
    return pos, packets, responses
