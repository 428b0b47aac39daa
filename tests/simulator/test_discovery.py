"""WS-Discovery on loopback: Probe → ProbeMatch per device, Hello on start, Bye on stop."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest

from doorstep.simulator import Simulator

from .conftest import StartSimulator

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"


def probe(message_id: str, types: str = "dn:NetworkVideoTransmitter") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="{WSA}" xmlns:d="{WSD}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header><a:Action>{WSD}/Probe</a:Action><a:MessageID>{message_id}</a:MessageID>"
        f"<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>"
        f"<s:Body><d:Probe><d:Types>{types}</d:Types></d:Probe></s:Body></s:Envelope>"
    ).encode()


class Listener(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.put_nowait((data, addr))


@pytest.fixture
async def udp() -> AsyncIterator[tuple[asyncio.DatagramTransport, Listener]]:
    transport, listener = await asyncio.get_running_loop().create_datagram_endpoint(
        Listener, local_addr=("127.0.0.1", 0)
    )
    yield transport, listener
    transport.close()


async def collect(
    listener: Listener, seconds: float = 0.5
) -> list[tuple[ET.Element, tuple[str, int]]]:
    found = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            data, addr = await asyncio.wait_for(listener.received.get(), left)
        except TimeoutError:
            break
        found.append((ET.fromstring(data), addr))  # noqa: S314  # our own simulator's output
    return found


async def test_probe_gets_one_match_per_device(
    simulator: Simulator, udp: tuple[asyncio.DatagramTransport, Listener]
) -> None:
    transport, listener = udp
    message_id = f"urn:uuid:{uuid.uuid4()}"
    transport.sendto(probe(message_id), ("127.0.0.1", simulator.discovery_port))
    answers = await collect(listener)
    assert len(answers) == 2
    xaddrs = set()
    for envelope, sender in answers:
        assert sender[0] == "127.0.0.1"
        assert envelope.findtext(f"{{{SOAP}}}Header/{{{WSA}}}RelatesTo") == message_id
        match = envelope.find(f"{{{SOAP}}}Body/{{{WSD}}}ProbeMatches/{{{WSD}}}ProbeMatch")
        assert match is not None
        assert "dn:NetworkVideoTransmitter" in (match.findtext(f"{{{WSD}}}Types") or "")
        endpoint = match.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address") or ""
        assert endpoint.startswith("urn:uuid:")
        scopes = (match.findtext(f"{{{WSD}}}Scopes") or "").split()
        assert any(s.startswith("onvif://www.onvif.org/name/") for s in scopes)
        xaddrs.add(match.findtext(f"{{{WSD}}}XAddrs"))
    assert xaddrs == {d.device_url for d in simulator.devices.values()}


async def test_probe_for_tds_device_also_matches(
    simulator: Simulator, udp: tuple[asyncio.DatagramTransport, Listener]
) -> None:
    transport, listener = udp
    transport.sendto(probe("urn:uuid:1", "tds:Device"), ("127.0.0.1", simulator.discovery_port))
    assert len(await collect(listener)) == 2


async def test_other_types_and_garbage_get_no_answer(
    simulator: Simulator, udp: tuple[asyncio.DatagramTransport, Listener]
) -> None:
    transport, listener = udp
    target = ("127.0.0.1", simulator.discovery_port)
    transport.sendto(probe("urn:uuid:2", "p:Printer"), target)
    transport.sendto(b"<not-xml", target)
    transport.sendto(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', target)
    assert await collect(listener) == []
    transport.sendto(probe("urn:uuid:3"), target)  # still answering
    assert len(await collect(listener)) == 2


async def test_hello_on_start_and_bye_on_stop(
    simulator_factory: StartSimulator, udp: tuple[asyncio.DatagramTransport, Listener]
) -> None:
    transport, listener = udp
    target = transport.get_extra_info("sockname")
    async with simulator_factory(cameras=1, doorbells=0, announce_to=[target]) as simulator:
        hellos = await collect(listener)
        assert [e.find(f"{{{SOAP}}}Body/{{{WSD}}}Hello") is not None for e, _ in hellos] == [True]
        endpoint = simulator.devices["camera-1"].profile.endpoint
    byes = await collect(listener)
    assert len(byes) == 1
    assert (
        byes[0][0].findtext(
            f"{{{SOAP}}}Body/{{{WSD}}}Bye/{{{WSA}}}EndpointReference/{{{WSA}}}Address"
        )
        == endpoint
    )
