"""RTP (RFC 3550) primitives shared by the gateway and the simulator: packetising H.264 (RFC 6184)
and G.711, parsing received packets, and RTSP interleaved framing."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

MAX_PAYLOAD = 1400  # stays under a 1500-byte Ethernet MTU with IP/TCP/RTP headers
FU_A = 28
_HEADER = struct.Struct("!BBHII")
_INTERLEAVED = struct.Struct("!cBH")


def h264_payloads(nals: tuple[bytes, ...]) -> list[tuple[bytes, bool]]:
    """RTP payloads for one access unit, each with its marker bit (set on the last).

    NAL units that fit travel as single-NAL packets; larger ones are split into FU-A fragments.
    """
    payloads: list[bytes] = []
    for nal in nals:
        if len(nal) <= MAX_PAYLOAD:
            payloads.append(nal)
            continue
        indicator = (nal[0] & 0xE0) | FU_A
        nal_type = nal[0] & 0x1F
        body = nal[1:]
        chunk = MAX_PAYLOAD - 2
        for offset in range(0, len(body), chunk):
            start = 0x80 if offset == 0 else 0
            end = 0x40 if offset + chunk >= len(body) else 0
            payloads.append(
                bytes((indicator, start | end | nal_type)) + body[offset : offset + chunk]
            )
    return [(p, i == len(payloads) - 1) for i, p in enumerate(payloads)]


@dataclass(slots=True)
class RtpStream:
    """Sequence numbers and timestamps of one outgoing RTP stream."""

    payload_type: int
    ssrc: int
    sequence: int
    timestamp: int

    def packet(self, payload: bytes, marker: bool) -> bytes:
        """One RTP packet with the current timestamp; advances the sequence number."""
        header = _HEADER.pack(
            0x80,
            (0x80 if marker else 0) | self.payload_type,
            self.sequence,
            self.timestamp,
            self.ssrc,
        )
        self.sequence = (self.sequence + 1) & 0xFFFF
        return header + payload


def interleave(channel: int, packet: bytes) -> bytes:
    """Frame a packet for RTSP-over-TCP: '$', channel, 16-bit length (RFC 2326 §10.12)."""
    return _INTERLEAVED.pack(b"$", channel, len(packet)) + packet


class RtpPacket(NamedTuple):
    """The parts of a received RTP packet a receiver needs (a tuple: made ~400 times a second
    per camera, and a frozen dataclass costs several times more to build)."""

    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


class RtpError(ValueError):
    """A datagram that is not a well-formed RTP packet."""


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse an RTP packet, honouring CSRC count, extension and padding with bounds checks."""
    if len(data) < _HEADER.size:
        raise RtpError("shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != 2:
        raise RtpError("not RTP version 2")
    offset = _HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data)
    if first & 0x20:  # padding: the last byte counts the padding bytes
        if end == 0 or data[-1] == 0:
            raise RtpError("bad padding")
        end -= data[-1]
    if offset > end:
        raise RtpError("header longer than the packet")
    return RtpPacket(
        second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, data[offset:end]
    )
