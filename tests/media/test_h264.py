"""H.264 depacketisation: what the simulator (and cameras) packetise comes back intact."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from doorstep.protocols.h264 import START_CODE, H264Depacketizer, parameter_sets
from doorstep.protocols.rtp import RtpStream, h264_payloads, parse_rtp
from doorstep.protocols.rtsp_framing import take_frames
from doorstep.protocols.sdp import SdpMedia
from doorstep.simulator.library import MediaLibrary


def annexb(nals: tuple[bytes, ...] | list[bytes]) -> bytes:
    return b"".join(START_CODE + n for n in nals)


def test_round_trip_of_a_whole_loop(media: MediaLibrary) -> None:  # the session's media
    loop = media.loop(640, 360)
    depacketizer = H264Depacketizer()
    units = []
    for index, frame in enumerate(loop.frames):
        for payload, marker in h264_payloads(frame.nals):  # includes FU-A for big NAL units
            units += depacketizer.push(payload, index * 6000, marker)
    assert len(units) == len(loop.frames)
    for unit, frame in zip(units, loop.frames, strict=True):
        assert unit.data == annexb(frame.nals)
        assert unit.keyframe == frame.keyframe
    assert depacketizer.dropped == 0


def test_lost_fragment_start_skips_that_nal_only() -> None:
    nal = bytes([0x65]) + bytes(range(256)) * 20  # an IDR slice, split in FU-A
    payloads = h264_payloads((nal,))
    assert len(payloads) > 2
    depacketizer = H264Depacketizer()
    for payload, marker in payloads[1:]:  # the start fragment is lost
        assert depacketizer.push(payload, 1, marker) == []
    units = depacketizer.push(bytes([0x41, 0x9A]), 2, True)  # the next frame still comes out
    assert [u.data for u in units] == [START_CODE + bytes([0x41, 0x9A])]


def test_stap_a_and_parameter_sets_from_the_sdp() -> None:
    sps, pps, idr = bytes([0x67, 0x42, 0xC0, 0x1E]), bytes([0x68, 0xCE]), bytes([0x65, 0x88, 0x84])
    sprop = ",".join([base64.b64encode(sps).decode(), base64.b64encode(pps).decode(), "!!"])
    media = SdpMedia("video", 96, "H264", 90000, fmtp={"sprop-parameter-sets": sprop})
    assert parameter_sets(media) == [sps, pps]
    depacketizer = H264Depacketizer(parameter_sets(media))
    # A camera that never repeats SPS/PPS in band: the keyframe gets them from the SDP.
    [unit] = depacketizer.push(idr, 10, True)
    assert unit.keyframe
    assert unit.data == annexb([sps, pps, idr])
    stap = bytes([0x78]) + len(sps).to_bytes(2, "big") + sps + len(pps).to_bytes(2, "big") + pps
    depacketizer.push(stap, 20, False)
    [unit] = depacketizer.push(idr, 20, True)
    assert unit.data == annexb([sps, pps, idr])  # in-band ones are not doubled
    assert depacketizer.push(bytes([0x78, 0xFF, 0xFF, 0x01]), 30, True) == []  # lying length


def _frame_of_single_nals(total: int, timestamp: int) -> list[tuple[bytes, int, bool]]:
    """`total` bytes of non-IDR slices in 1400-byte single-NAL packets, the last one marked."""
    count = total // 1400
    nal = bytes([0x41]) + b"\x00" * 1399
    return [(nal, timestamp, i == count - 1) for i in range(count)]


def test_a_frame_dropped_for_size_is_discarded_to_its_end() -> None:
    depacketizer = H264Depacketizer()
    units = []
    # An oversized frame: its first 5 MiB overrun the cap; the rest of its NAL units (same
    # timestamp, marker on the last) must not come out as a truncated frame.
    for payload, timestamp, marker in _frame_of_single_nals(6 * 1024 * 1024, 100):
        units += depacketizer.push(payload, timestamp, marker)
    assert units == []
    assert depacketizer.dropped == 1
    assert depacketizer.buffered_bytes == 0
    # The next frame comes out whole.
    [unit] = depacketizer.push(bytes([0x41, 0x9A]), 200, True)
    assert unit.data == START_CODE + bytes([0x41, 0x9A])


def test_a_frame_dropped_for_size_is_discarded_up_to_the_next_timestamp() -> None:
    depacketizer = H264Depacketizer()
    start = bytes([0x7C, 0x85]) + b"\xab" * 1398  # FU-A of an IDR that grows past the cap
    middle = bytes([0x7C, 0x05]) + b"\xab" * 1398
    depacketizer.push(start, 1, False)
    for _ in range(5 * 1024 * 1024 // 1398):
        depacketizer.push(middle, 1, False)
    assert depacketizer.dropped == 1
    # More NAL units of the same frame, no marker: still the dropped frame, held nowhere.
    assert depacketizer.push(bytes([0x41, 0x01, 0x02]), 1, False) == []
    assert depacketizer.buffered_bytes == 0
    # A new timestamp (the camera never set the marker) starts a frame that does come out.
    assert depacketizer.push(bytes([0x41, 0x03]), 2, False) == []
    units = depacketizer.push(bytes([0x41, 0x04]), 3, True)
    assert [(u.timestamp, u.data) for u in units] == [
        (2, START_CODE + bytes([0x41, 0x03])),
        (3, START_CODE + bytes([0x41, 0x04])),
    ]


def test_the_per_frame_cap_is_4_mib() -> None:
    # A 4K I-frame at a high bitrate is 1-2 MiB: a 3.5 MiB frame passes, a 4.5 MiB one does not,
    # and the depacketiser never holds more than 4 MiB for the frame it is assembling.
    for size, passes in ((3_500_000, True), (4_700_000, False)):
        depacketizer = H264Depacketizer()
        units, peak = [], 0
        for payload, timestamp, marker in _frame_of_single_nals(size, 5):
            units += depacketizer.push(payload, timestamp, marker)
            peak = max(peak, depacketizer.buffered_bytes)
        assert (len(units) == 1) is passes, size
        assert peak <= 4 * 1024 * 1024


def rtp_packets(frames: list[tuple[bytes, ...]], variants: list[int]) -> list[bytes]:
    """The frames as RTP packets, each with one of several header shapes (plain; with a CSRC;
    with an extension; with padding) and some lost, as `variants` picks."""
    stream = RtpStream(96, 0x1234, 0, 0)
    packets = []
    choice = iter(variants * 1000)
    for index, nals in enumerate(frames):
        stream.timestamp = index * 3000
        for payload, marker in h264_payloads(nals):
            packet = stream.packet(payload, marker)
            shape = next(choice)
            if shape == 1:  # one CSRC
                packet = bytes([0x81]) + packet[1:12] + b"\0\0\0\7" + packet[12:]
            elif shape == 2:  # a one-word header extension
                packet = bytes([0x90]) + packet[1:12] + b"\xbe\xde\0\1\0\0\0\0" + packet[12:]
            elif shape == 3:  # three bytes of padding
                packet = bytes([0xA0]) + packet[1:] + b"\0\0\3"
            elif shape == 4:
                continue  # lost
            packets.append(packet)
    return packets


@given(
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=12),
    variants=st.lists(st.integers(0, 4), min_size=1, max_size=9),
)
def test_whole_packets_give_what_parsed_payloads_give(
    sizes: list[int], variants: list[int]
) -> None:
    # The inline path for the middles of FU-A fragments must not change a single unit.
    frames = [(bytes([0x65 if i == 0 else 0x41]) + bytes([i % 251]) * size,) for i, size in
              enumerate(sizes)]  # fmt: skip
    packets = rtp_packets(frames, variants)
    whole, parsed = H264Depacketizer(), H264Depacketizer()
    from_whole, from_parsed = [], []
    for packet in packets:
        from_whole += whole.push_rtp(packet)
        rtp = parse_rtp(packet)
        from_parsed += parsed.push(rtp.payload, rtp.timestamp, rtp.marker)
    assert from_whole == from_parsed
    assert whole.dropped == parsed.dropped
    if 4 not in variants:  # nothing lost: every frame comes back
        assert [u.data for u in from_whole] == [annexb(f) for f in frames]


def taken_in_place(packets: list[bytes], read_sizes: list[int]) -> H264Depacketizer:
    """The packets, interleaved with an audio packet after each, read in pieces of
    `read_sizes` into one reused buffer and handed to a depacketizer where they lie."""
    interleaved = b"".join(
        b"$\x00" + len(p).to_bytes(2, "big") + p + b"$\x02\x00\x03abc" for p in packets
    )
    depacketizer = H264Depacketizer()
    buffer, held, other = bytearray(80_000), 0, []
    sizes = iter(read_sizes * len(interleaved))
    sent = 0
    while sent < len(interleaved):
        chunk = interleaved[sent : sent + next(sizes)]
        sent += len(chunk)
        buffer[held : held + len(chunk)] = chunk
        end = held + len(chunk)
        used, listed, _, _ = take_frames(buffer, True, end, {0: depacketizer.push_from})
        other += listed
        rest = bytes(buffer[used:end])
        buffer[: len(rest)] = rest
        buffer[len(rest) : end] = bytes(end - len(rest))  # what a next read would overwrite
        held = len(rest)
    assert other == [(2, b"abc")] * len(packets)
    return depacketizer


@given(
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=12),
    variants=st.lists(st.integers(0, 4), min_size=1, max_size=9),
    read_sizes=st.lists(st.integers(1, 9000), min_size=1, max_size=7),
)
def test_packets_taken_where_they_lie_give_what_whole_packets_give(
    sizes: list[int], variants: list[int], read_sizes: list[int]
) -> None:
    # A connection hands video packets to the depacketizer inside its read buffer, which it
    # then reuses: reads cut anywhere, audio in between, the same units must come out.
    frames = [(bytes([0x65 if i == 0 else 0x41]) + bytes([i % 251]) * size,) for i, size in
              enumerate(sizes)]  # fmt: skip
    packets = rtp_packets(frames, variants)
    whole = H264Depacketizer()
    expected = [unit for packet in packets for unit in whole.push_rtp(packet)]
    in_place = taken_in_place(packets, read_sizes)
    assert in_place.completed == expected
    assert in_place.dropped == whole.dropped


def test_frames_that_lost_pieces_come_out_in_place_as_from_whole_packets() -> None:
    # Frame 1 loses its slice's last piece, frame 2 its SEI and its slice's first piece: frame
    # 2's middle piece (a new timestamp) meets frame 1's open fragment, and frame 1's complete
    # SEI must still come out on its own.
    frames = [(b"\x06\x05\x01", bytes([0x65]) + bytes(4000)),
              (b"\x06\x05\x02", bytes([0x41]) + bytes(4000))]  # fmt: skip
    packets = rtp_packets(frames, [0])
    per_frame = len(packets) // 2
    assert per_frame >= 4  # SEI, first, middle(s), last piece
    kept = packets[: per_frame - 1] + packets[per_frame + 2 :]
    whole = H264Depacketizer()
    expected = [unit for packet in kept for unit in whole.push_rtp(packet)]
    assert expected[0].data == START_CODE + b"\x06\x05\x01"
    assert taken_in_place(kept, [1500]).completed == expected


def test_a_whole_packet_that_is_not_rtp_is_ignored() -> None:
    depacketizer = H264Depacketizer()
    assert depacketizer.push_rtp(b"") == []
    assert depacketizer.push_rtp(b"\x40" + bytes(20)) == []  # version 1
