"""The RTSP client's connection: what it holds for a camera is bounded, in both directions."""

from __future__ import annotations

import asyncio
import socket

import pytest

from doorstep.protocols import rtsp_connection
from doorstep.protocols.h264 import H264Depacketizer
from doorstep.protocols.rtsp_client import MAX_UNSENT_BYTES, RtspClient
from doorstep.protocols.rtsp_connection import RtspConnection
from doorstep.protocols.rtsp_framing import RtspError, take_frames


async def test_talk_to_a_camera_that_stopped_reading_is_dropped_not_buffered() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(never_reads, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RtspClient(f"rtsp://127.0.0.1:{port}/stream", None, None)
    await client.connect()
    try:
        packet = bytes(1400)
        for _ in range(40_000):  # 56 MB: far past what the kernel's buffers take
            client.send(0, packet)
        connection = client._connection
        assert connection is not None
        assert connection.transport is not None
        assert client.unsent_dropped > 0
        assert connection.transport.get_write_buffer_size() <= MAX_UNSENT_BYTES + 1404
    finally:
        await client.close()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_closing_with_talk_unsent_lets_it_drain_and_releases_the_connection() -> None:
    # The camera reads again while the client closes: the transport closes by sending what it
    # held, and closing must not then fail on the transport it already released.
    received = bytearray()
    start_reading, ended = asyncio.Event(), asyncio.Event()

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await start_reading.wait()
        while chunk := await reader.read(1 << 20):
            received.extend(chunk)
        ended.set()
        writer.close()

    server = await asyncio.start_server(slow_reader, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RtspClient(f"rtsp://127.0.0.1:{port}/stream", None, None)
    await client.connect()
    try:
        for _ in range(40_000):
            client.send(0, bytes(1400))
        connection = client._connection
        assert connection is not None
        assert connection.transport is not None
        assert connection.transport.get_write_buffer_size() > 0  # held, waiting for the camera
        asyncio.get_running_loop().call_later(0.2, start_reading.set)
        await client.close()
        assert connection.closed.done()
        await asyncio.wait_for(ended.wait(), 5)  # the camera saw the end of the stream
        assert len(received) % 1404 == 0  # whole packets only
    finally:
        server.close()
        await server.wait_closed()


def test_a_response_length_that_is_not_a_number_is_an_rtsp_error() -> None:
    with pytest.raises(RtspError, match="not a number"):
        take_frames(bytearray(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 1e3\r\n\r\n"))


async def test_after_the_first_second_media_is_read_on_a_timer_until_the_camera_hangs_up() -> None:
    """A camera sends 2.5 s of packets, one every 5 ms, then closes: every packet arrives,
    the later ones read in batches a `coalesce_s` apart with the transport's reading paused,
    and the hang-up is noticed at once though nothing watches the socket any more."""
    sent = 500
    done = asyncio.Event()

    async def camera(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for number in range(sent):
            writer.write(b"$\x00\x00\x04" + number.to_bytes(4, "big"))
            await writer.drain()
            await asyncio.sleep(0.005)
        await done.wait()
        writer.close()

    server = await asyncio.start_server(camera, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    batches: list[int] = []
    lost: list[Exception | None] = []
    connection = RtspConnection(
        lambda packets: batches.append(len(packets)), lambda response: None, lost.append
    )
    connection.coalesce_s = 0.1
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(lambda: connection, "127.0.0.1", port)
    try:
        while sum(batches) < sent:  # the callbacks are what is measured
            await asyncio.sleep(0.05)
        assert not transport.is_reading()  # read by the timer, not by readiness
        late = batches[-10:]
        assert sum(late) / len(late) > 5  # ~20 packets per 0.1 s, not one read per packet
        done.set()
        await asyncio.wait_for(asyncio.shield(connection.closed), 1.0)
        assert lost == [None]
    finally:
        transport.abort()
        server.close()
        await server.wait_closed()


async def connect_counting_reads(
    port: int, receive_buffer: int | None = None
) -> tuple[RtspConnection, asyncio.Transport, list[tuple[float, int]]]:
    """A connection to the camera on `port` that notes (when, packets) for every read."""
    loop = asyncio.get_running_loop()
    reads: list[tuple[float, int]] = []
    connection = RtspConnection(
        lambda packets: reads.append((loop.time(), len(packets))), lambda r: None, lambda e: None
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if receive_buffer is not None:  # a fixed buffer: the kernel does not grow it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    transport, _ = await loop.create_connection(lambda: connection, sock=sock)
    return connection, transport, reads


async def test_reads_come_sooner_than_the_pace_while_the_socket_buffer_is_too_small() -> None:
    """A second between reads would let 2 MB/s fill a 64 KiB buffer many times over (the
    camera blocked, its frames lost): the reads come often enough to keep a third of it free."""
    packet = bytes(16_000)
    server = await serve_interleaved([packet] * 2000, 0.008)
    port = server.sockets[0].getsockname()[1]
    connection, transport, reads = await connect_counting_reads(port, receive_buffer=32 * 1024)
    connection.coalesce_s = 1.0
    try:
        await asyncio.sleep(rtsp_connection.COALESCE_AFTER_S + 3.0)
        assert not transport.is_reading()  # read by the timer
        since = asyncio.get_running_loop().time() - 2.0
        assert len([at for at, _ in reads if at >= since]) >= 8  # not 2: one a second
    finally:
        transport.abort()
        server.close()
        await server.wait_closed()


async def test_a_quicker_pace_takes_effect_at_once_not_after_the_slow_read_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rtsp_connection, "RAMP", 10.0)  # 30 ms, 0.3 s, 3 s, 5 s between reads
    server = await serve_interleaved([b"\x80" * 12] * 4000, 0.005)
    port = server.sockets[0].getsockname()[1]
    connection, transport, reads = await connect_counting_reads(port)
    connection.coalesce_s = 5.0
    loop = asyncio.get_running_loop()
    try:
        await asyncio.sleep(rtsp_connection.COALESCE_AFTER_S + 3.5)
        assert len(reads) >= 2
        assert reads[-1][0] - reads[-2][0] > 2.5  # the slow pace was reached
        before = len(reads)
        connection.coalesce_s = 0.03  # a live viewer came
        asked = loop.time()
        while len(reads) == before:
            assert loop.time() - asked < 2.0, "the next read waited for the slow pace"
            await asyncio.sleep(0.01)
    finally:
        transport.abort()
        server.close()
        await server.wait_closed()


async def test_read_soon_reads_at_once_and_then_ramps_up_to_the_pace_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rtsp_connection, "RAMP", 10.0)
    server = await serve_interleaved([b"\x80" * 12] * 4000, 0.005)
    port = server.sockets[0].getsockname()[1]
    connection, transport, reads = await connect_counting_reads(port)
    connection.coalesce_s = 5.0
    loop = asyncio.get_running_loop()
    try:
        await asyncio.sleep(rtsp_connection.COALESCE_AFTER_S + 3.5)
        assert reads[-1][0] - reads[-2][0] > 2.5  # the slow pace was reached
        before = len(reads)
        connection.read_soon()  # a recorder's event
        asked = loop.time()
        while len(reads) < before + 2:  # the read now, and the next one a pace step later
            assert loop.time() - asked < 2.0, "read_soon waited for the slow pace"
            await asyncio.sleep(0.01)
        assert connection.coalesce_s == 5.0  # the pace itself is unchanged
    finally:
        transport.abort()
        server.close()
        await server.wait_closed()


async def serve_interleaved(packets: list[bytes], every_s: float) -> asyncio.Server:
    """A camera that, once connected, sends these video packets (channel 0), then idles."""

    async def camera(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for packet in packets:
                writer.write(b"$\x00" + len(packet).to_bytes(2, "big") + packet)
                await writer.drain()
                await asyncio.sleep(every_s)
            await reader.read()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(camera, "127.0.0.1", 0)


def rtp(sequence: int, timestamp: int, payload: bytes, marker: bool = True) -> bytes:
    header = bytes([0x80, 0xE0 if marker else 0x60]) + sequence.to_bytes(2, "big")
    return header + timestamp.to_bytes(4, "big") + bytes(4) + payload


@pytest.mark.parametrize(
    ("packets", "error"),
    [
        # FU-A middle pieces whose first piece never came: video, but never a frame
        ([rtp(n, n, b"\x7c\x01" + bytes(100), marker=False) for n in range(20)],
         "no video frame for 1 s"),
        ([], "no packet in time"),
    ],
)  # fmt: skip
async def test_a_stream_with_no_whole_frame_says_whether_video_came(
    packets: list[bytes], error: str
) -> None:
    server = await serve_interleaved(packets, 0.01)
    port = server.sockets[0].getsockname()[1]
    client = RtspClient(f"rtsp://127.0.0.1:{port}/stream", None, None)
    client.receive_video(0, H264Depacketizer())
    await client.connect()
    try:
        with pytest.raises(RtspError, match=error):
            await client.media(wait_s=1.0)
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_frames_a_stalled_reader_leaves_stay_within_the_byte_budget() -> None:
    # Whole frames (single-NAL packets, marked) keep coming while nobody reads: the oldest are
    # dropped, the queue never holds more than its budget, the newest are what is read.
    frames = [rtp(n, n * 3000, b"\x41" + bytes([n % 256]) * 999) for n in range(300)]
    server = await serve_interleaved(frames, 0.0)
    port = server.sockets[0].getsockname()[1]
    budget = 20_000
    client = RtspClient(f"rtsp://127.0.0.1:{port}/stream", None, None, max_queue_bytes=budget)
    client.receive_video(0, H264Depacketizer())
    await client.connect()
    try:
        deadline = asyncio.get_running_loop().time() + 5
        peak = 0
        while client.dropped < 100:
            assert asyncio.get_running_loop().time() < deadline, "frames never piled up"
            peak = max(peak, client.queued_bytes)
            await asyncio.sleep(0)
        units, others = await client.media()
        assert peak <= budget
        assert 0 < len(units) <= budget // 1000
        assert others == []
        assert [u.timestamp for u in units] == sorted(u.timestamp for u in units)
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
