"""A small, safe asyncio WS-Discovery prober.

Sends a Probe per asked type (ONVIF asks for `dn:NetworkVideoTransmitter` and `tds:Device`),
by multicast from each chosen interface and by unicast to given addresses (cameras on other
VLANs, or the simulator on loopback). A reply is accepted only if it relates to one of our
probes and every XAddr it keeps points at the address the reply came from (spoofed or
NAT-confused XAddrs are dropped); results are de-duplicated by endpoint reference and bounded
in number. What a match means (which driver, which scopes name the device) is the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

_log = logging.getLogger(__name__)

MULTICAST_GROUP = "239.255.255.250"
WSD_PORT = 3702
MAX_DATAGRAM = 64 * 1024
MAX_RESULTS = 1024
_SOAP = "http://www.w3.org/2003/05/soap-envelope"
_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
_REFUSED_HOSTS = frozenset({"169.254.169.254"})


@dataclass(frozen=True, slots=True)
class ProbeType:
    """A type to probe for: its namespace and local name (`tds:Device`)."""

    prefix: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class ProbeMatch:
    """One accepted answer: where the device's service is, and what it says of itself."""

    host: str
    port: int
    endpoint: str | None
    """The WS-Addressing endpoint reference (urn:uuid:…): stable across address changes."""
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """Where to send a unicast Probe."""

    host: str
    port: int = WSD_PORT


def probe_targets(texts: Iterable[str]) -> list[ProbeTarget]:
    """Targets from config strings: `host`, `host:port`, or `[v6]:port`."""
    targets = []
    for text in texts:
        if text.startswith("["):
            host, _, port = text[1:].partition("]:")
            targets.append(ProbeTarget(host.rstrip("]"), int(port) if port else WSD_PORT))
        elif text.count(":") == 1:
            host, port = text.split(":")
            targets.append(ProbeTarget(host, int(port)))
        else:
            targets.append(ProbeTarget(text))
    return targets


def probe_message(message_id: str, probe_type: ProbeType) -> bytes:
    """A WS-Discovery Probe for one type."""
    t = probe_type
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{_SOAP}" xmlns:a="{_WSA}" '
        f'xmlns:d="{_WSD}" xmlns:{t.prefix}="{t.namespace}">'
        f"<s:Header><a:Action>{_WSD}/Probe</a:Action><a:MessageID>{message_id}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>"
        f"<s:Body><d:Probe><d:Types>{t.prefix}:{t.name}</d:Types></d:Probe></s:Body></s:Envelope>"
    ).encode()


def _endpoint_of(url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) XAddr; None for anything else, a bad port included."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def parse_probe_match(data: bytes, sender: str, our_ids: set[str]) -> list[ProbeMatch]:
    """Accepted matches from one datagram (empty when it fails any check)."""
    if len(data) > MAX_DATAGRAM or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return []
    try:
        root = ET.fromstring(data)  # noqa: S314  # DTDs (and so entities) are refused above
    except (ET.ParseError, LookupError, UnicodeError):  # LookupError: an unknown encoding
        return []
    relates = (root.findtext(f"{{{_SOAP}}}Header/{{{_WSA}}}RelatesTo") or "").strip()
    if relates not in our_ids:
        return []  # unsolicited, or an answer to somebody else's probe
    found = []
    for match in root.iterfind(f"{{{_SOAP}}}Body/{{{_WSD}}}ProbeMatches/{{{_WSD}}}ProbeMatch"):
        kept = [
            (x, e) for x in (match.findtext(f"{{{_WSD}}}XAddrs") or "").split()
            if (e := _endpoint_of(x)) and e[0] not in _REFUSED_HOSTS and _same_address(e[0], sender)
        ]  # fmt: skip
        if not kept:
            continue
        endpoint = (match.findtext(f"{{{_WSA}}}EndpointReference/{{{_WSA}}}Address") or "").strip()
        scopes = tuple((match.findtext(f"{{{_WSD}}}Scopes") or "").split())[:64]
        found.append(
            ProbeMatch(
                host=sender,
                port=kept[0][1][1],
                endpoint=endpoint[:512] or None,
                scopes=tuple(s[:512] for s in scopes),
                xaddrs=tuple(x[:2048] for x, _ in kept),
            )
        )
    return found


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, our_ids: set[str], results: dict[str, ProbeMatch]) -> None:
        self.our_ids = our_ids
        self.results = results

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        sender = str(addr[0])
        for device in parse_probe_match(data, sender, self.our_ids):
            key = device.endpoint or f"{device.host}:{device.port}"
            if key not in self.results and len(self.results) < MAX_RESULTS:
                self.results[key] = device

    def error_received(self, exc: Exception) -> None:
        _log.debug("discovery socket error: %s", exc)


async def probe(
    types: Sequence[ProbeType],
    targets: Iterable[ProbeTarget] = (),
    interfaces: Iterable[str] = (),
    listen_s: float = 3.0,
) -> list[ProbeMatch]:
    """Probe for each of `types` and collect answers for `listen_s` seconds.

    `targets` get unicast probes; each address in `interfaces` gets a multicast probe sent from
    it. With neither, nothing is sent (Doorstep sends nothing on the LAN unless configured to).
    """
    loop = asyncio.get_running_loop()
    results: dict[str, ProbeMatch] = {}
    our_ids: set[str] = set()
    transports: list[asyncio.DatagramTransport] = []
    sends: list[tuple[asyncio.DatagramTransport, tuple[str, int]]] = []
    try:
        targets = list(targets)
        # Replies come back to this ephemeral port; stay on loopback when only probing loopback.
        local = "127.0.0.1" if all(_is_loopback(t.host) for t in targets) else "0.0.0.0"  # noqa: S104
        unicast, _ = await loop.create_datagram_endpoint(
            lambda: _Collector(our_ids, results), local_addr=(local, 0)
        )
        transports.append(unicast)
        sends += [(unicast, (t.host, t.port)) for t in targets]
        for address in interfaces:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((address, 0))
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address)
                )
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("b", 1))
            except OSError as exc:
                sock.close()
                _log.warning("cannot probe from interface %s: %s", address, exc)
                continue
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Collector(our_ids, results), sock=sock
            )
            transports.append(transport)
            sends.append((transport, (MULTICAST_GROUP, WSD_PORT)))
        for transport, destination in sends:
            # One probe per type: some cameras answer only an exact single-type match.
            for probe_type in types:
                message_id = f"urn:uuid:{uuid.uuid4()}"
                our_ids.add(message_id)
                with contextlib.suppress(OSError):
                    transport.sendto(probe_message(message_id, probe_type), destination)
        await asyncio.sleep(listen_s)
    finally:
        for transport in transports:
            transport.close()
    return sorted(results.values(), key=lambda d: (d.host, d.port))
