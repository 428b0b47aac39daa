"""A small, bounded SDP parser: the media sections an RTSP DESCRIBE returns."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SDP_BYTES = 64 * 1024
MAX_MEDIA = 16


class SdpError(ValueError):
    """An SDP body that cannot be used."""


@dataclass
class SdpMedia:
    """One m= section."""

    kind: str
    payload_type: int
    encoding: str = ""
    clock_rate: int = 0
    control: str = ""
    direction: str = "sendrecv"
    fmtp: dict[str, str] = field(default_factory=dict)

    @property
    def is_backchannel(self) -> bool:
        """ONVIF marks the backchannel audio track `a=sendonly` (the client sends)."""
        return self.kind == "audio" and self.direction == "sendonly"


def _apply_attribute(current: SdpMedia, value: str) -> None:
    name, _, rest = value.partition(":")
    if name == "control":
        current.control = rest.strip()
    elif name in ("sendonly", "recvonly", "sendrecv", "inactive"):
        current.direction = name
    elif name == "rtpmap":
        _, _, spec = rest.partition(" ")
        encoding, _, rate = spec.partition("/")
        current.encoding = encoding.upper()
        clock = rate.split("/")[0]
        current.clock_rate = int(clock) if clock.isascii() and clock.isdigit() else 0
    elif name == "fmtp":
        _, _, params = rest.partition(" ")
        for item in params.split(";"):
            key, _, val = item.strip().partition("=")
            if key:
                current.fmtp[key.lower()] = val


_STATIC_PAYLOADS = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}


def parse_sdp(text: str) -> list[SdpMedia]:
    """Media sections of an SDP description; raises SdpError on nonsense."""
    if len(text) > MAX_SDP_BYTES:
        raise SdpError("SDP too large")
    media: list[SdpMedia] = []
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            parts = value.split()
            if len(parts) < 4 or not (parts[3].isascii() and parts[3].isdigit()):
                raise SdpError("bad m= line")
            if len(media) >= MAX_MEDIA:
                raise SdpError("too many media sections")
            media.append(SdpMedia(parts[0], int(parts[3])))
        elif kind == "a" and media:
            _apply_attribute(media[-1], value)
    for section in media:
        if not section.encoding and section.payload_type in _STATIC_PAYLOADS:
            section.encoding, section.clock_rate = _STATIC_PAYLOADS[section.payload_type]
    return media
