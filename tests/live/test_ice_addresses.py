"""The ICE host addresses are chosen per peer connection: two live services in one process
with different settings keep their own, even answering at the same time, and aioice's own
address lookup is back in place whenever none of them is gathering."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection

from doorstep.gateway.live import LiveService
from doorstep.gateway.live.ice import aioice_is_original
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget


def nowhere() -> StreamTarget:
    return StreamTarget("rtsp://127.0.0.1:9/none", None, None)  # discard port: refused at once


async def browser_offer(peers: list[RTCPeerConnection]) -> str:
    pc = RTCPeerConnection()
    peers.append(pc)
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


def host_candidates(sdp: str) -> set[str]:
    return set(re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) \d+ typ host", sdp))


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    made: list[RTCPeerConnection] = []
    yield made
    for pc in made:
        await pc.close()


async def test_two_services_keep_their_own_addresses_and_aioice_is_restored(
    peers: list[RTCPeerConnection],
) -> None:
    hub = StreamHub()
    first = LiveService(hub, [], host_addresses=["127.0.0.1"])
    second = LiveService(hub, [], host_addresses=["127.0.0.2"])
    try:
        a = await first.start("a", nowhere, await browser_offer(peers), "u")
        assert aioice_is_original()  # not left patched once the answer is made
        b = await second.start("b", nowhere, await browser_offer(peers), "u")
        again = await first.start("a", nowhere, await browser_offer(peers), "v")
        assert host_candidates(a.pc.localDescription.sdp) == {"127.0.0.1"}
        assert host_candidates(b.pc.localDescription.sdp) == {"127.0.0.2"}
        assert host_candidates(again.pc.localDescription.sdp) == {"127.0.0.1"}
        # Answering side by side: each peer connection still gathers its own service's.
        offers = [await browser_offer(peers) for _ in range(4)]
        both = await asyncio.gather(
            *(
                (first if i % 2 == 0 else second).start("c", nowhere, sdp, f"w{i}")
                for i, sdp in enumerate(offers)
            )
        )
        for i, session in enumerate(both):
            expected = {"127.0.0.1"} if i % 2 == 0 else {"127.0.0.2"}
            assert host_candidates(session.pc.localDescription.sdp) == expected, i
        assert aioice_is_original()
    finally:
        await first.close()
        await second.close()
        await hub.close()
    assert aioice_is_original()
    # A service that chose nothing gets aioice's own choice (which never offers loopback).
    third = LiveService(hub, [])
    try:
        c = await third.start("c", nowhere, await browser_offer(peers), "u")
        assert not host_candidates(c.pc.localDescription.sdp) & {"127.0.0.1", "127.0.0.2"}
    finally:
        await third.close()
        await hub.close()
    assert aioice_is_original()
