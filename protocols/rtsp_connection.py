"""The receiving end of an RTSP TCP connection: the socket reads straight into one fixed buffer,
complete interleaved packets and responses are taken off it there, and media reads are spaced
out so each one carries many packets.

This is what an RTSP client spends most of its CPU on (a recording camera sends ~400 packets a
second), so it is an `asyncio.BufferedProtocol`: no reader task to wake per read, no copy from a
stream buffer, one trip through the event loop per read instead of three.

Once media flows, the socket is not watched for readiness at all: the transport's reading stays
paused and a timer reads whatever gathered, straight from the socket: every `coalesce_s`, or
sooner while the socket's buffer is small for that pace (`FILL_LIMIT`).
Resuming and pausing the transport around each read instead (two `epoll_ctl` calls and the
selector's bookkeeping) measured ~70 µs of CPU per read in the gateway: 0.6 % of a core for 9
streams read every 100 ms.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable

from doorstep.protocols.rtsp_framing import (
    MAX_BUFFERED,
    PacketSink,
    RtspError,
    RtspResponse,
    take_frames,
)

READ_CHUNK = 256 * 1024
"""The least room a read gets; the buffer holds a longest incomplete frame on top of it."""
COALESCE_S = 0.03
"""How long media waits in the socket between reads: one frame at 30 fps. Measured with four
1080p30 4 Mbit/s streams: 10.4 % of a core without it, 13 % at 10 ms (the pause costs more than
it saves), 6.3 % at 20 ms, 4.9 % at 30 ms, 5.0 % at 50 ms."""
COALESCE_AFTER_S = 1.0
"""Media is read as it comes for this long first, so a stream's first keyframe (what a new
viewer waits for) is not held up."""
FILL_LIMIT = 1 / 3
"""The share of the socket's receive buffer (as the kernel sized it, overhead included) a read
may find gathered. Past it the reads come twice as often; below it they slow by `RAMP` up to
`coalesce_s`, so a pace longer than the buffer can hold never stalls the camera's sending
(cameras drop frames when their socket backs up). The kernel grows the buffer as reads get
bigger, so a slow pace is reached in steps."""
RAMP = 1.5
MIN_COALESCE_S = 0.005  # the quickest pace the buffer guard goes down to

MediaSink = Callable[[list[tuple[int, bytes]]], None]
ResponseSink = Callable[[RtspResponse], None]
LostSink = Callable[[Exception | None], None]


class RtspConnection(asyncio.BufferedProtocol):
    """Parses what arrives into (channel, packet) batches and responses for its client; the
    packets of a channel in `sinks` go to its sink instead, where they lie in the buffer.
    `on_packets` is called once per read that held media (with an empty list when all of it
    went to sinks)."""

    def __init__(self, on_packets: MediaSink, on_response: ResponseSink, on_lost: LostSink) -> None:
        self._on_packets = on_packets
        self._on_response = on_response
        self._on_lost = on_lost
        self._buffer = bytearray(MAX_BUFFERED + READ_CHUNK)
        self._view = memoryview(self._buffer)
        self._end = 0
        """Bytes held at the front of the buffer: the start of a frame still arriving."""
        self.keep_media = True
        """False: interleaved packets are read and thrown away (a backchannel sends, and a
        camera's RTCP to it must not pile up unread)."""
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()
        """Done (with no result) once the connection is gone."""
        self._media_since: float | None = None
        self._next_read: asyncio.Handle | None = None
        """The timer of the next read, once media is read on a timer (see `_coalesce`)."""
        self._error: Exception | None = None
        self._coalesce_s = COALESCE_S
        self._interval = COALESCE_S
        """The wait before the next read: ramps up to `coalesce_s` (see `FILL_LIMIT`)."""
        self.sinks: dict[int, PacketSink] = {}

    @property
    def coalesce_s(self) -> float:
        """The longest media waits in the socket between two reads once reads are timed."""
        return self._coalesce_s

    @coalesce_s.setter
    def coalesce_s(self, seconds: float) -> None:
        self._coalesce_s = seconds
        self._interval = min(self._interval, seconds)
        timer = self._next_read
        if isinstance(timer, asyncio.TimerHandle):  # (not a read already due: `read_soon`)
            # A quicker pace (a live viewer came) starts now, not after the slow read due.
            loop = asyncio.get_running_loop()
            if timer.when() > loop.time() + seconds:
                timer.cancel()
                self._next_read = loop.call_later(seconds, self._read_gathered)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.Transport):  # always, for a TCP connection
            self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._take(nbytes) and nbytes < READ_CHUNK:
            self._coalesce()  # the socket was drained: let the next packets gather

    def _take(self, nbytes: int) -> bool:
        """Hand on what the buffer holds after `nbytes` more came in; True if media came."""
        end = self._end + nbytes
        try:
            used, packets, responses, sunk = take_frames(
                self._buffer, self.keep_media, end, self.sinks
            )
        except RtspError as exc:
            self._fail(exc)
            return False
        rest = end - used
        if rest > MAX_BUFFERED:
            self._fail(RtspError("an interleaved frame or response larger than allowed"))
            return False
        if used and rest:  # keep only the incomplete frame, at the front (usually part of a
            # packet); copied out first, as source and destination may overlap
            self._buffer[:rest] = bytes(self._view[used:end])
        self._end = rest
        for response in responses:
            self._on_response(response)
        if packets or sunk:
            self._on_packets(packets)
        return bool(packets or sunk)

    def read_soon(self) -> None:
        """Read what gathered now, and from there ramp up to the pace again (a recorder's
        event: the clip opens on the next frame, not a slow read later)."""
        self._interval = min(self._interval, COALESCE_S, self._coalesce_s)
        timer = self._next_read
        if timer is not None:
            timer.cancel()
            self._next_read = asyncio.get_running_loop().call_soon(self._read_gathered)

    def _coalesce(self) -> None:
        """After the first second of media, stop the transport's reading for good and read on
        a timer: a camera sends each RTP packet on its own, and a read (with its trip through
        the event loop) per packet costs more than the packet."""
        loop = asyncio.get_running_loop()
        if self._media_since is None:
            self._media_since = loop.time()
        transport = self.transport
        if (
            loop.time() - self._media_since < COALESCE_AFTER_S
            or transport is None
            or self._next_read is not None
        ):
            return
        transport.pause_reading()
        self._interval = min(COALESCE_S, self._coalesce_s)
        self._next_read = loop.call_later(self._interval, self._read_gathered)

    def _read_gathered(self) -> None:
        """Read what gathered in the socket (a whole buffer at a time), then wait again."""
        self._next_read = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        sock = transport.get_extra_info("socket")
        gathered = 0
        while True:
            room = self._view[self._end :]
            try:
                # readv fills our buffer in place: the transport's socket object offers no
                # recv_into, and its reading is paused, so nothing else reads this socket.
                nbytes = os.readv(sock.fileno(), [room])
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._fail(exc)
                return
            if nbytes == 0:
                transport.close()  # the camera hung up (what eof_received does when watched)
                return
            gathered += nbytes
            self._take(nbytes)
            if transport.is_closing():
                return
            if nbytes < len(room):
                break
        self._pace(gathered, sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        self._next_read = asyncio.get_running_loop().call_later(self._interval, self._read_gathered)

    def _pace(self, gathered: int, receive_buffer: int) -> None:
        """The next wait, from what this read found against the socket's buffer."""
        limit = receive_buffer * FILL_LIMIT
        if gathered > limit:
            self._interval = max(MIN_COALESCE_S, self._interval / 2)
        elif gathered * RAMP <= limit:
            self._interval = min(self._coalesce_s, self._interval * RAMP)

    def _fail(self, exc: Exception) -> None:
        """A protocol error: drop the connection (connection_lost reports it)."""
        self._error = exc
        if self.transport is not None:
            self.transport.abort()

    def eof_received(self) -> bool:
        return False  # the camera hung up: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._next_read is not None:
            self._next_read.cancel()
            self._next_read = None
        if not self.closed.done():
            self.closed.set_result(None)
        self._on_lost(self._error or exc)
