"""The stream hub against the simulator: one upstream session for many consumers, GOP priming,
decodable frames, and the session closing after the last consumer."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from fractions import Fraction

import av
import pytest

from doorstep.gateway.media import hub as hub_module
from doorstep.gateway.media.consumer import AudioChunk, Consumer
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.protocols.h264 import AccessUnit
from doorstep.protocols.rtsp_client import RtspError
from doorstep.simulator import SimulatedDevice

from .probes import StepClock, wait_until


def target(device: SimulatedDevice) -> StreamTarget:
    return StreamTarget(device.rtsp_url("main"), device.profile.username, device.profile.password)


def decode(units: list[AccessUnit]) -> tuple[int, int, int]:
    """Decode with FFmpeg's H.264 decoder: (frames, width, height). Blocking."""
    codec = av.CodecContext.create("h264", "r")
    frames, width, height = 0, 0, 0
    for unit in units:
        packet = av.Packet(unit.data)
        packet.time_base = Fraction(1, 90000)
        for frame in codec.decode(packet):
            frames, width, height = frames + 1, frame.width, frame.height
    return frames, width, height


async def take(consumer: Consumer, count: int) -> list[AccessUnit]:
    return [await asyncio.wait_for(consumer.get(), 10) for _ in range(count)]


async def test_two_consumers_share_one_upstream_session(doorbell: SimulatedDevice) -> None:
    hub = StreamHub()
    stream = hub.stream("doorbell-1/main", lambda: target(doorbell))
    first, second = stream.consume(), stream.consume()
    got = await asyncio.gather(take(first, 45), take(second, 45))
    assert stream.sessions_opened == 1
    assert doorbell._rtsp.active_sessions == 1
    for units in got:
        assert units[0].keyframe  # a consumer starts at a keyframe
        frames, width, height = await asyncio.to_thread(decode, units)
        assert (frames, width, height) == (45, 640, 360)
    first.close()
    second.close()
    await hub.close()


async def test_a_late_consumer_starts_at_once_from_the_cached_gop(
    doorbell: SimulatedDevice,
) -> None:
    hub = StreamHub()
    stream = hub.stream("doorbell-1/main", lambda: target(doorbell))
    early = stream.consume()
    await take(early, 22)  # mid-GOP: the next keyframe is most of a second away
    cached = list(stream._gop)
    late = stream.consume()
    # Primed as it joins, before the camera sends anything more: no wait for a keyframe.
    assert late.behind == len(cached) > 1  # the GOP so far, keyframe first
    unit = await asyncio.wait_for(late.get(), 5)
    assert unit is cached[0]
    assert unit.keyframe
    frames, _, _ = await asyncio.to_thread(decode, [unit, *await take(late, 10)])
    assert frames == 11
    early.close()
    late.close()
    await hub.close()


async def test_upstream_closes_after_the_last_consumer(doorbell: SimulatedDevice) -> None:
    clock = StepClock()
    hub = StreamHub(clock=clock.hub_clock())
    stream = hub.stream("doorbell-1/main", lambda: target(doorbell))
    consumer = stream.consume()
    await take(consumer, 3)
    consumer.close()
    assert await wait_until(lambda: doorbell._rtsp.active_sessions == 0, 10)
    assert clock.waits == [hub_module.LINGER_S]  # it lingered first, by the hub's clock
    again = stream.consume()  # a new viewer opens a new session
    await take(again, 3)
    assert stream.sessions_opened == 2
    again.close()
    await hub.close()


async def test_a_stream_whose_failing_session_swallows_the_cancel_still_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python 3.11's `wait_for` can swallow a cancellation that lands as its inner call ends;
    the stream must stop all the same instead of retrying after the hub let it go."""
    entered = asyncio.Event()

    async def swallowing_session(self: hub_module.CameraStream) -> None:
        entered.set()
        # What wait_for does when the connect fails at the moment it is cancelled:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        raise RtspError("connection refused")

    monkeypatch.setattr(hub_module.CameraStream, "_session", swallowing_session)
    hub = StreamHub()
    stream = hub.stream("cam/main", lambda: StreamTarget("rtsp://127.0.0.1:9/x", None, None))
    consumer = stream.consume()
    await asyncio.wait_for(entered.wait(), 10)
    consumer.close()
    await hub.close()
    running = [t for t in asyncio.all_tasks() if t.get_name() == "stream:cam/main"]
    assert all(t.done() for t in running), running


async def test_a_stream_read_by_recorders_alone_is_read_less_often(
    doorbell: SimulatedDevice,
) -> None:
    hub = StreamHub()
    stream = hub.stream("doorbell-1/main", lambda: target(doorbell))
    recorder = stream.consume(bulk=True)
    await take(recorder, 5)
    client = stream._client
    assert client is not None
    assert client.coalesce_s == hub_module.BULK_COALESCE_S
    viewer = stream.consume()  # a viewer waits for no batch
    assert client.coalesce_s == hub_module.COALESCE_S < hub_module.BULK_COALESCE_S
    assert (await take(viewer, 5))[0].keyframe
    viewer.close()
    assert client.coalesce_s == hub_module.BULK_COALESCE_S
    await take(recorder, 5)  # the recorder reads on, from the same session
    assert stream.sessions_opened == 1
    recorder.close()
    await hub.close()


async def test_a_bulk_reader_takes_each_read_in_one_batch(doorbell: SimulatedDevice) -> None:
    """Once media is read on a timer, a batch holds every frame and every audio payload of a
    read, in order, and taking it returns the queues' byte counts to nothing."""
    hub = StreamHub()
    stream = hub.stream("doorbell-1/main", lambda: target(doorbell))
    recorder = stream.consume(audio=True, bulk=True)
    batches: list[list[AccessUnit]] = []
    audio: list[AudioChunk] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + 3.0
    late = 0  # batches in the last 1.5 s (the first second is read as it comes)
    while loop.time() < until:
        units, chunks = await asyncio.wait_for(recorder.get_media(), 10)
        batches.append(units)
        audio += chunks
        late += loop.time() > until - 1.5
        assert recorder.queued_bytes == recorder.behind == recorder._audio_bytes == 0
    assert len(audio) > 50  # 20 ms payloads for 3 s
    assert [a.timestamp for a in audio] == sorted(a.timestamp for a in audio)
    units = [unit for batch in batches if batch for unit in batch]
    assert units[0].keyframe
    stamps = [unit.timestamp for unit in units]
    assert all((b - a) & 0xFFFFFFFF < 90000 for a, b in itertools.pairwise(stamps)), stamps
    assert max(len(batch) for batch in batches[-5:]) > 1  # read every 100 ms: several frames
    assert late <= 1.5 / 0.1 + 5  # a batch per read: not 45 frames and 75 payloads
    recorder.close()
    await hub.close()
