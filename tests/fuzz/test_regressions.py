"""What the fuzzing found, pinned: each input once escaped its parser as an unexpected exception
(or, for the YAML alias bomb, grew memory without end)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from doorstep.gateway.config.models import ConfigError, parse_config
from doorstep.protocols.h264 import MAX_ACCESS_UNIT, H264Depacketizer
from doorstep.protocols.rtsp_client import RtspError
from doorstep.protocols.sdp import SdpError, parse_sdp
from doorstep.protocols.wsdiscovery import parse_probe_match

from .properties import (
    BROWSER_OFFER,
    CAMERA_SDP,
    PROBE_ID,
    SENDER,
    answer_offers,
    describe_against,
    probe_seed,
)


def alias_bomb(levels: int = 9) -> str:
    """Billion laughs in YAML: each level is nine aliases of the one before (9**9 leaves)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "server:\n" + "".join(f"  {line}\n" for line in lines)


# The child reports its own peak RSS (VmHWM belongs to the exec'd image; ru_maxrss would also
# count the forked copy of this test process).
_CHECK_CONFIG = """
import atexit, sys
from doorstep.gateway.cli.main import main
def report():
    peak = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    print(f"peak_kib={peak}", file=sys.stderr)
atexit.register(report)
sys.argv = ["doorstep", "check-config", sys.argv[1]]
sys.exit(main())
"""


def test_check_config_refuses_an_alias_bomb_fast_with_flat_memory(tmp_path: Path) -> None:
    # Before: `doorstep check-config` on this file grew ~36 MiB/s (867 MiB after 24 s) and never
    # finished. After: refused in 0.7 s at 105 MiB peak RSS, what an empty file takes too.
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHECK_CONFIG, str(path)],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("check-config did not finish within 60 s on an alias bomb")
    peak_mib = int(done.stderr.rsplit(b"peak_kib=", 1)[1].split()[0]) / 1024
    assert peak_mib < 200, f"peak RSS {peak_mib:.0f} MiB"
    assert done.returncode != 0
    assert b"aliases expand it past" in done.stderr, done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x: &a [*a]", "an alias refers to a node that contains it"),
        ("cameras: &a [*a]", "an alias refers to a node that contains it"),
        ("[" * 2000, "nested deeper than"),
        ("a: 2001-02-30", "not a valid timestamp"),
        ("x: !!int abc", "not a valid int"),
        ("? [1]\n: 2", "a key must be a plain value"),
        ("{? {a: 1}: 2}", "a key must be a plain value"),
        ("x: [" + ", ".join(["*a"] * 1001) + "]\na: &a 1", "undefined alias"),
    ],
)
def test_hostile_yaml_is_a_config_error_that_says_why(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text, "fuzz.yaml", env={})
    assert reason in str(raised.value)


def test_too_many_aliases_are_refused_and_reasonable_anchors_still_work() -> None:
    many = "a: &a 1\nx: [" + ", ".join(["*a"] * 1001) + "]\n"
    with pytest.raises(ConfigError, match="more than 1000 aliases"):
        parse_config(many, "fuzz.yaml", env={})
    shared = (
        "cameras:\n"
        "  - &front {id: front, name: Front, host: 192.0.2.10, username: admin}\n"
        "  - {<<: *front, id: back, name: Back, host: 192.0.2.11}\n"
    )
    config = parse_config(shared, "fuzz.yaml", env={})
    assert [(c.id, c.username) for c in config.cameras] == [("front", "admin"), ("back", "admin")]


def test_an_fu_a_that_never_ends_stays_within_the_byte_budget() -> None:
    depacketizer = H264Depacketizer()
    fragment = bytes([0x7C, 0x05]) + b"\xab" * 1398  # FU-A, IDR, neither start nor end
    start = bytes([0x7C, 0x85]) + b"\xab" * 1398
    peak = 0
    assert depacketizer.push(start, 1, marker=False) == []
    for _ in range(3 * MAX_ACCESS_UNIT // 1398):  # 3x the cap: a frame that never ends
        depacketizer.push(fragment, 1, marker=False)
        peak = max(peak, depacketizer.buffered_bytes)
    assert peak <= MAX_ACCESS_UNIT
    assert depacketizer.buffered_bytes == 0  # the oversized frame was dropped, not kept
    assert depacketizer.dropped == 1
    # Endless fragments with no start are skipped, and a proper frame afterwards comes through.
    for _ in range(1000):
        depacketizer.push(fragment, 2, marker=False)
    assert depacketizer.buffered_bytes == 0
    units = depacketizer.push(bytes([0x65]) + b"\x01" * 100, 3, marker=True)
    assert [u.keyframe for u in units] == [True]


def test_endless_single_nal_units_of_one_frame_stay_within_the_byte_budget() -> None:
    depacketizer = H264Depacketizer()
    nal = bytes([0x41]) + b"\x00" * 1399
    for _ in range(2 * MAX_ACCESS_UNIT // 1400):
        depacketizer.push(nal, 7, marker=False)
        assert depacketizer.buffered_bytes <= MAX_ACCESS_UNIT
    assert depacketizer.dropped >= 1


@pytest.mark.parametrize(
    "xaddr", ["http://127.0.0.1:99999/onvif", "http://127.0.0.1:abc/", "http://[::1/"]
)
def test_a_probe_match_with_an_unusable_xaddr_is_dropped(xaddr: str) -> None:
    assert parse_probe_match(probe_seed([xaddr], []), SENDER, {PROBE_ID}) == []
    both = probe_seed([xaddr, "http://127.0.0.1:8080/onvif"], [])
    assert [d.port for d in parse_probe_match(both, SENDER, {PROBE_ID})] == [8080]


def test_a_datagram_in_an_unknown_encoding_is_ignored() -> None:
    data = b'<?xml version="1.0" encoding="bogus"?><a/>'
    assert parse_probe_match(data, SENDER, {PROBE_ID}) == []


@pytest.mark.parametrize(
    "base", ["rtsp://127.0.0.1:99999/", "rtsp://[::1/", "rtsp://127.0.0.1:abc/"]
)
async def test_an_rtsp_answer_with_an_unusable_content_base_is_an_rtsp_error(base: str) -> None:
    answer = (
        f"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: {base}\r\n"
        f"Content-Length: {len(CAMERA_SDP)}\r\n\r\n{CAMERA_SDP}"
    ).encode()
    with pytest.raises(RtspError):
        await describe_against(answer, suppress=False)


@pytest.mark.parametrize(
    "offer",
    [
        BROWSER_OFFER.replace("a=rtpmap:97", "a=fmtp:77 x\r\na=rtpmap:97"),  # StopIteration
        BROWSER_OFFER + "m=video abc\r\n",  # AssertionError
        BROWSER_OFFER.replace("a=rtpmap:97", "a=rtpmap\r\na=rtpmap:97"),  # AttributeError
        # aiortc's createAnswer and then close() crashed on a bundle naming a missing section.
        BROWSER_OFFER.replace("m=audio 50817 UDP/TLS/RTP/SAVPF 96 0 8\r\n", ""),
    ],
)
async def test_offers_aiortc_cannot_parse_are_a_live_error(offer: str) -> None:
    await asyncio.wait_for(answer_offers([offer], expect_refusal=True), 60)


@pytest.mark.parametrize("digits", ["²", "٨٠٠٠", "9\u0663"])
def test_non_ascii_digits_in_an_rtpmap_or_a_port_are_not_numbers(digits: str) -> None:
    # str.isdigit() is true for superscripts and Arabic-Indic digits, which int() refuses
    # (found by bench/fuzz.py).
    text = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        f"m=audio {digits} RTP/AVP 0\r\na=rtpmap:0 PCMU/{digits}\r\n"
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    )
    try:
        media = parse_sdp(text)
    except SdpError:
        return
    assert all(m.clock_rate in (0, 90000) for m in media)
