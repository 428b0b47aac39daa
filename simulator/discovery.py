"""WS-Discovery responder for the simulator: answers Probe with ProbeMatch, sends Hello and Bye."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from doorstep.simulator.soap import text

_log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
WSD_PORT = 3702
MAX_DATAGRAM = 64 * 1024
_NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
_NS_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_NS_WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
_ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
_DISCOVERY_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
_OUR_TYPES = frozenset({"NetworkVideoTransmitter", "Device"})
TYPES = "dn:NetworkVideoTransmitter tds:Device"


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a device says about itself in ProbeMatch/Hello."""

    endpoint: str
    scopes: Sequence[str]
    xaddrs: Sequence[str]


def _envelope(action: str, header_extra: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{_NS_SOAP}" xmlns:a="{_NS_WSA}" xmlns:d="{_NS_WSD}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header><a:Action>{_NS_WSD}/{action}</a:Action>"
        f"<a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID>{header_extra}</s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _match_body(a: Announcement) -> str:
    return (
        f"<a:EndpointReference><a:Address>{text(a.endpoint)}</a:Address></a:EndpointReference>"
        f"<d:Types>{TYPES}</d:Types><d:Scopes>{text(' '.join(a.scopes))}</d:Scopes>"
        f"<d:XAddrs>{text(' '.join(a.xaddrs))}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
    )


def probe_match(a: Announcement, relates_to: str) -> bytes:
    """A ProbeMatches message answering the probe with message id `relates_to`."""
    header = f"<a:RelatesTo>{text(relates_to)}</a:RelatesTo><a:To>{_ANONYMOUS}</a:To>"
    return _envelope(
        "ProbeMatches",
        header,
        f"<d:ProbeMatches><d:ProbeMatch>{_match_body(a)}</d:ProbeMatch></d:ProbeMatches>",
    )


def hello(a: Announcement) -> bytes:
    """A Hello announcement."""
    return _envelope(
        "Hello", f"<a:To>{_DISCOVERY_TO}</a:To>", f"<d:Hello>{_match_body(a)}</d:Hello>"
    )


def bye(a: Announcement) -> bytes:
    """A Bye announcement."""
    body = f"<d:Bye><a:EndpointReference><a:Address>{text(a.endpoint)}</a:Address></a:EndpointReference></d:Bye>"
    return _envelope("Bye", f"<a:To>{_DISCOVERY_TO}</a:To>", body)


def parse_probe(data: bytes) -> tuple[str, set[str]] | None:
    """(message id, requested type local names) of a Probe, or None for anything else."""
    if len(data) > MAX_DATAGRAM or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None
    try:
        root = ET.fromstring(data)  # noqa: S314  # DTDs refused above
    except ET.ParseError:
        return None
    probe = root.find(f"{{{_NS_SOAP}}}Body/{{{_NS_WSD}}}Probe")
    message_id = root.findtext(f"{{{_NS_SOAP}}}Header/{{{_NS_WSA}}}MessageID", "").strip()
    if probe is None or not message_id:
        return None
    types = {t.rsplit(":", 1)[-1] for t in (probe.findtext(f"{{{_NS_WSD}}}Types") or "").split()}
    return message_id, types


class DiscoveryResponder(asyncio.DatagramProtocol):
    """Answers probes for every simulated device from one UDP socket."""

    def __init__(self, announcements: Callable[[], list[Announcement]]) -> None:
        self._announcements = announcements
        self._transport: asyncio.DatagramTransport | None = None
        self.probes_answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector transport does not subclass DatagramTransport, though it is one.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        parsed = parse_probe(data)
        if parsed is None or self._transport is None:
            return
        message_id, types = parsed
        if types and not types & _OUR_TYPES:
            return
        for announcement in self._announcements():
            self._transport.sendto(probe_match(announcement, message_id), addr)
        self.probes_answered += 1

    def send(self, message: bytes, targets: Sequence[tuple[str, int]]) -> None:
        """Send an announcement to each target."""
        if self._transport is None:
            return
        for target in targets:
            with contextlib.suppress(OSError):
                self._transport.sendto(message, target)


async def start_responder(
    announcements: Callable[[], list[Announcement]], host: str, port: int, multicast: bool
) -> tuple[asyncio.DatagramTransport, DiscoveryResponder]:
    """Bind the responder; with `multicast`, also join the WS-Discovery group on `host`'s interface."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if multicast:
        sock.bind(("", port))
        membership = struct.pack("4s4s", socket.inet_aton(MULTICAST_GROUP), socket.inet_aton(host))
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(host))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        except OSError as exc:
            _log.warning(
                "cannot join the WS-Discovery multicast group on %s: %s (unicast only)", host, exc
            )
    else:
        sock.bind((host, port))
    sock.setblocking(False)
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: DiscoveryResponder(announcements), sock=sock
    )
    return transport, protocol
