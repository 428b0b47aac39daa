"""H.264 over RTP (RFC 6184) back into access units: single NAL, STAP-A and FU-A, grouped by
RTP timestamp; keyframes get the SPS/PPS they need even when the camera sends them only in
the SDP."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from doorstep.protocols.rtp import RtpError, parse_rtp
from doorstep.protocols.sdp import SdpMedia

START_CODE = b"\x00\x00\x00\x01"
STAP_A, FU_A = 24, 28
IDR, SPS, PPS = 5, 7, 8
NO_TIMESTAMP = bytes(5)
"""Matches no 4-byte RTP timestamp (the current one, as bytes, before any packet)."""
MAX_ACCESS_UNIT = 4 * 1024 * 1024
"""Byte cap of one frame being assembled (NAL units plus an unfinished FU-A): a 4K I-frame at
a high bitrate is 1-2 MiB, and a corrupt stream must not grow a frame without bound."""


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One video frame as Annex B bytes, with its RTP timestamp (90 kHz)."""

    data: bytes
    timestamp: int
    keyframe: bool


def parameter_sets(media: SdpMedia) -> list[bytes]:
    """SPS/PPS from the SDP's sprop-parameter-sets (empty when absent or unreadable)."""
    found = []
    for item in media.fmtp.get("sprop-parameter-sets", "").split(","):
        try:
            nal = base64.b64decode(item.strip(), validate=True)
        except ValueError:
            continue
        if nal and (nal[0] & 0x1F) in (SPS, PPS):
            found.append(nal)
    return found


def _stap_a(payload: bytes) -> list[bytes]:
    """The NAL units aggregated in a STAP-A payload (length-prefixed, bounds-checked)."""
    nals, offset = [], 1
    while offset + 2 <= len(payload):
        size = int.from_bytes(payload[offset : offset + 2], "big")
        offset += 2
        if size == 0 or offset + size > len(payload):
            break
        nals.append(payload[offset : offset + size])
        offset += size
    return nals


class H264Depacketizer:
    """Feeds RTP payloads in, gets access units out."""

    def __init__(self, sdp_parameter_sets: list[bytes] | None = None) -> None:
        self._nals: list[bytes] = []
        self._size = 0
        self._timestamp: int | None = None
        self._fragment: bytearray | None = None
        self._sps_pps: dict[int, bytes] = {n[0] & 0x1F: n for n in sdp_parameter_sets or []}
        self._discarding = False  # the current frame overran the cap: drop it to its end
        self._timestamp_bytes = NO_TIMESTAMP
        self.dropped = 0
        self.completed: list[AccessUnit] = []
        """What `push_from` completed, for its owner to take (and empty)."""

    @property
    def buffered_bytes(self) -> int:
        """Bytes held for the frame being assembled (NAL units plus an unfinished FU-A)."""
        return self._size + (len(self._fragment) if self._fragment is not None else 0)

    def push(self, payload: bytes, timestamp: int, marker: bool) -> list[AccessUnit]:
        """Add one RTP payload; returns the access units it completed (usually none or one)."""
        finished = []
        if self._timestamp is not None and timestamp != self._timestamp:
            if self._nals:
                finished.append(self._flush())  # a new timestamp: the previous frame is complete
            self._discarding = False
        if timestamp != self._timestamp:
            self._timestamp = timestamp
            in_rtp = 0 <= timestamp <= 0xFFFFFFFF
            self._timestamp_bytes = timestamp.to_bytes(4, "big") if in_rtp else NO_TIMESTAMP
        for nal in self._unpack(payload):
            self._add(nal)
        if marker:
            if self._nals:
                finished.append(self._flush())
            self._discarding = False
        return finished

    def push_rtp(self, packet: bytes) -> list[AccessUnit]:
        """Add one whole RTP packet (header included); returns the access units it completed.

        The same as `parse_rtp` then `push`, with the common case done inline: most packets
        of a frame are the middle pieces of one FU-A, and this is called ~400 times a second
        per camera.
        """
        size = len(packet)
        if size < 14:  # an RTP header (12 bytes) and an FU-A's two
            return self._push_parsed(packet)
        if packet[0] != 0x80 or packet[1] & 0x80 or packet[12] & 0x1F != FU_A:
            # Not plain RTP (version 2; no padding, extension or CSRC), marked, or no FU-A.
            return self._push_parsed(packet)
        fragment = self._fragment
        if (
            packet[13] & 0xC0  # the first or the last piece
            or fragment is None
            or self._discarding
            or int.from_bytes(packet[4:8], "big") != self._timestamp
        ):
            return self._push_parsed(packet)
        fragment += packet[14:]  # the middle of a fragmented NAL unit
        if self._size + len(fragment) > MAX_ACCESS_UNIT:
            self._drop()
        return []

    def push_from(self, buffer: bytearray, view: memoryview, start: int, stop: int) -> None:
        """Add the RTP packet at `buffer[start:stop]` (`view` is a memoryview of `buffer`)
        where it lies, in a connection's read buffer: what it completes goes to `completed`.

        The same as `push_rtp`, without first copying the packet out: a FU-A middle piece (most
        packets) goes from the read buffer straight into its fragment. Nothing of `buffer` is
        kept, so it may be reused as soon as this returns.
        """
        fragment = self._fragment
        if (
            fragment is not None
            and stop - start >= 14
            and buffer[start] == 0x80  # version 2; no padding, extension or CSRC
            and not buffer[start + 1] & 0x80  # not marked
            and buffer[start + 12] & 0x1F == FU_A
            and not buffer[start + 13] & 0xC0  # neither the first nor the last piece
            and not self._discarding
            and buffer.startswith(self._timestamp_bytes, start + 4, start + 8)
        ):
            fragment += view[start + 14 : stop]
            if self._size + len(fragment) > MAX_ACCESS_UNIT:
                self._drop()
            return
        units = self.push_rtp(bytes(view[start:stop]))
        if units:
            self.completed += units

    def _push_parsed(self, packet: bytes) -> list[AccessUnit]:
        try:
            parsed = parse_rtp(packet)
        except RtpError:
            return []
        return self.push(parsed.payload, parsed.timestamp, parsed.marker)

    def _unpack(self, payload: bytes) -> list[bytes]:
        kind = payload[0] & 0x1F if payload else 0
        if kind == STAP_A:
            return _stap_a(payload)
        if kind == FU_A:
            return self._fu_a(payload)
        return [payload] if 1 <= kind <= 23 else []

    def _fu_a(self, payload: bytes) -> list[bytes]:
        if len(payload) < 2:
            return []
        header = payload[1]
        if self._discarding:
            return []
        if header & 0x80:  # start
            self._fragment = bytearray(((payload[0] & 0xE0) | (header & 0x1F),))
        if self._fragment is None:
            return []  # lost the start: skip until the next one
        self._fragment += payload[2:]
        if self.buffered_bytes > MAX_ACCESS_UNIT:
            self._drop()
            return []
        if not header & 0x40:  # not the end yet
            return []
        nal, self._fragment = bytes(self._fragment), None
        return [nal]

    def _add(self, nal: bytes) -> None:
        kind = nal[0] & 0x1F
        if kind in (SPS, PPS):
            self._sps_pps[kind] = nal
        if self._discarding:
            return
        self._nals.append(nal)
        self._size += len(nal)
        if self.buffered_bytes > MAX_ACCESS_UNIT:
            self._drop()

    def _drop(self) -> None:
        """Give up on the frame being assembled; the rest of it is discarded as it comes."""
        self._nals, self._size, self._fragment = [], 0, None
        self._discarding = True
        self.dropped += 1

    def _flush(self) -> AccessUnit:
        nals, self._nals, self._size = self._nals, [], 0
        kinds = {n[0] & 0x1F for n in nals}
        keyframe = IDR in kinds
        if keyframe and not {SPS, PPS} <= kinds:
            # Decoders need the parameter sets before an IDR; cameras that put them only in
            # the SDP would otherwise leave a new viewer with an undecodable first frame.
            nals = [self._sps_pps[k] for k in (SPS, PPS) if k in self._sps_pps] + nals
        timestamp = self._timestamp or 0
        return AccessUnit(b"".join(START_CODE + n for n in nals), timestamp, keyframe)


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (3- or 4-byte start codes), without them."""
    nals = []
    start = data.find(b"\x00\x00\x01")
    while start != -1:
        start += 3
        end = data.find(b"\x00\x00\x01", start)
        nal = data[start:] if end == -1 else data[start:end]
        if end != -1:
            nal = nal.rstrip(b"\x00")  # the leading zero of a 4-byte start code
        if nal:
            nals.append(nal)
        start = end
    return nals
