"""Hypothesis strategies and properties for every parser fed by the network or a camera.

Each `Target` pairs a strategy with a check that feeds one example to the real parser and fails
(an AssertionError, or the unexpected exception itself) when the parser breaks its contract:
it may only return, or raise the error type its module documents. tests/fuzz runs them a bounded
number of times; bench/fuzz.py runs the same ones for longer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from doorstep.drivers.onvif.normalize import normalize
from doorstep.drivers.onvif.notification import (
    NotificationParseError,
    element_fields,
    notification_from_zeep,
    parse_notifications,
)
from doorstep.gateway.config.models import ConfigError, parse_config
from doorstep.gateway.live.viewers import LiveError, LiveService
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.protocols.h264 import MAX_ACCESS_UNIT, H264Depacketizer, parameter_sets
from doorstep.protocols.rtp import RtpError, parse_rtp
from doorstep.protocols.rtsp_client import RtspClient, RtspError
from doorstep.protocols.sdp import MAX_MEDIA, SdpError, SdpMedia, parse_sdp
from doorstep.protocols.wsdiscovery import parse_probe_match
from doorstep.simulator.discovery import Announcement, probe_match

REPO = Path(__file__).resolve().parents[2]
SAMPLES_ENV = "DOORSTEP_FUZZ_SAMPLES"
"""A directory of real camera payloads to seed from (bench/fuzz.py sets it to
../shared/camera-samples when that exists); the suite itself reads nothing outside the repo."""
RECEIVED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

FUZZ_SETTINGS = settings(
    deadline=None,  # a loaded 2-core machine is slow at times; speed belongs in bench/fuzz.py
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""What every fuzz run shares; each sets its own max_examples (and CI derandomizes)."""

# -- seeds: what real peers send --------------------------------------------------------------

CAMERA_SDP = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=camera", "c=IN IP4 0.0.0.0", "t=0 0",
    "a=control:*", "a=range:npt=0-",
    "m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000",
    "a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;"
    "sprop-parameter-sets=Z0LgH9oBQBbpUgAAAwACAAADAGQeMGVA,aM4xUg==",
    "a=recvonly", "a=control:trackID=0",
    "m=audio 0 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=recvonly", "a=control:trackID=1",
    "m=audio 0 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendonly", "a=control:trackID=2",
]) + "\r\n"  # fmt: skip

BROWSER_OFFER = "\r\n".join([
    "v=0", "o=- 4005107243 4005107243 IN IP4 0.0.0.0", "s=-", "t=0 0",
    "a=group:BUNDLE 0 1", "a=msid-semantic:WMS *",
    "m=video 41718 UDP/TLS/RTP/SAVPF 97 98 99 100", "c=IN IP4 127.0.0.1", "a=recvonly",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid", "a=mid:0",
    "a=msid:7013c007-d659-4194-a6d0-f8173838db0d 578336e8-e814-48d2-8767-ad4dd2c0c7d2",
    "a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp-mux", "a=ssrc-group:FID 2803987079 2820319307",
    "a=ssrc:2803987079 cname:4bace0e0", "a=ssrc:2820319307 cname:4bace0e0",
    "a=rtpmap:97 VP8/90000", "a=rtcp-fb:97 nack pli", "a=rtpmap:98 rtx/90000",
    "a=fmtp:98 apt=97", "a=rtpmap:99 H264/90000", "a=rtcp-fb:99 nack",
    "a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:100 rtx/90000", "a=fmtp:100 apt=99",
    "a=candidate:16572de626da4e5384a0ce2d0d93678a 1 udp 2130706431 127.0.0.1 41718 typ host",
    "a=end-of-candidates", "a=ice-ufrag:IVWy", "a=ice-pwd:ZKk1Y7LHYdli4UrRINSz46",
    "a=fingerprint:sha-256 F6:BB:17:91:85:7C:A8:89:4E:4F:6F:F0:3A:D1:3D:6A:26:5B:93:CE:E7:B6:"
    "98:48:A3:F7:7F:73:EB:5E:68:81",
    "a=setup:actpass",
    "m=audio 50817 UDP/TLS/RTP/SAVPF 96 0 8", "c=IN IP4 127.0.0.1", "a=recvonly", "a=mid:1",
    "a=rtcp-mux", "a=ssrc:4135402561 cname:4bace0e0", "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=ice-ufrag:IVWy",
    "a=ice-pwd:ZKk1Y7LHYdli4UrRINSz46",
    "a=fingerprint:sha-256 F6:BB:17:91:85:7C:A8:89:4E:4F:6F:F0:3A:D1:3D:6A:26:5B:93:CE:E7:B6:"
    "98:48:A3:F7:7F:73:EB:5E:68:81",
    "a=setup:actpass",
]) + "\r\n"  # fmt: skip

PROBE_ID = "urn:uuid:6a3c8f6e-0000-4000-8000-000000000001"
SENDER = "127.0.0.1"

_NOTIFICATION = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema"
  xmlns:tns1="http://www.onvif.org/ver10/topics"><env:Body><wsnt:Notify>
<wsnt:NotificationMessage>
<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">
tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic>
<wsnt:Message><tt:Message UtcTime="2030-01-02T03:04:05Z" PropertyOperation="Changed">
<tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="vsc0"/>
<tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/></tt:Source>
<tt:Data><tt:SimpleItem Name="IsMotion" Value="true"/>
<tt:ElementItem Name="Objects"><Object><Human>true</Human></Object></tt:ElementItem></tt:Data>
</tt:Message></wsnt:Message></wsnt:NotificationMessage></wsnt:Notify></env:Body></env:Envelope>
"""


def _samples(suffix: str) -> list[bytes]:
    """Real-camera payloads of one form, from $DOORSTEP_FUZZ_SAMPLES (none without it)."""
    where = os.environ.get(SAMPLES_ENV)
    if not where or not Path(where).is_dir():
        return []
    return [p.read_bytes() for p in sorted(Path(where).glob(f"*{suffix}"))]


XML_SEEDS = [_NOTIFICATION, *_samples(".xml")]

_RESPONSES = [
    "RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: rtsp://127.0.0.1:8554/stream/\r\n"
    f"Content-Type: application/sdp\r\nContent-Length: {len(CAMERA_SDP)}\r\n\r\n{CAMERA_SDP}",
    'RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="cam", '
    'nonce="abc123", qop="auth", opaque="xyz"\r\n\r\n',
    "$\x00\x00\x0412345RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 0\r\n\r\n",
]

# Lines and tokens that broke parsers somewhere once: the mutators splice them in.
SDP_LINES = [
    "a=fmtp:77 x", "m=video abc", "a=rtpmap", "a=rtpmap:", "a=rtpmap:96", "a=fmtp", "m=",
    "a=", "a=mid", "a=ssrc:", "a=ssrc-group:FID", "a=candidate:", "a=fingerprint:",
    "a=rtcp:", "a=extmap:", "a=setup:", "a=group:BUNDLE", "c=IN", "o=-", "t=", "v=1",
    "a=fmtp:96 sprop-parameter-sets=", "a=fmtp:96 sprop-parameter-sets=,,,====",
    "a=rtpmap:96 H264/", "a=rtpmap:96 H264/abc/2", "a=sendonly", "a=inactive", "m=video 9",
    "m=audio 9 UDP/TLS/RTP/SAVPF", "m=video 9 UDP/TLS/RTP/SAVPF 96 96", "a=msid:",
    "a=rtcp-fb:", "a=ice-ufrag:", "a=ice-pwd:", "a=control:rtsp://10.0.0.1/x", "b=AS:x",
    "a=control:rtsp://127.0.0.1:99999/x", "a=control:../../x", "a=control:rtsp://[::1/",
]  # fmt: skip
_TOKENS = [
    "", " ", "-1", "0", "1", "65535", "65536", "4294967296", "99999999999999999999", "abc",
    "\x00", "é", "\u0661", "²", "\ufeff", ":", "/", "=", ";", ",", "*", "\t", "=" * 8, "%", "\\",
]  # fmt: skip
_XML_TOKENS = [
    "<", ">", "&", "&amp;", "&#0;", "&#x10FFFF;", "&bogus;", "<![CDATA[x]]>", "<!-- c -->",
    '<?xml version="1.0" encoding="bogus"?>', '<?xml version="1.0" encoding="utf-16"?>',
    "<?pi x?>", 'xmlns:tt=""', 'xmlns="urn:x"', "</x>", "<x>", "<x/>", "\x00", "\ufffe",
    "tns1:", "//", "/.", "true", "false", "2030-13-45T25:61:61Z", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00", "Deleted", "Initialized",
]  # fmt: skip
_HEADER_LINES = [
    "Content-Length: -1", "Content-Length: 99999999", "Content-Length: abc", "Content-Length:",
    "Content-Length: \u0661", "CSeq: abc", "CSeq: -1", "CSeq:", "CSeq: 1", "Session: ;timeout=x",
    "Content-Base: rtsp://127.0.0.1:99999/", "Content-Base: rtsp://[::1/", "Content-Base: x",
    "Content-Base: rtsp://10.0.0.1/", "Content-Base: rtsp://127.0.0.1:abc/",
    "Content-Location: rtsp://127.0.0.1:8554/x/", "WWW-Authenticate: Digest",
    "WWW-Authenticate: Basic",
    'WWW-Authenticate: Digest realm="\\"', "RTSP/1.0 200", "RTSP/1.0 ²00 OK", ": x", "\x00",
]  # fmt: skip


@st.composite
def mutated_lines(
    draw: st.DrawFn, seeds: Sequence[str], vocabulary: Sequence[str], sep: str = "\r\n"
) -> str:
    """A seed text with a few line-level and token-level mutations."""
    lines = draw(st.sampled_from(seeds)).splitlines()
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 5))
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == 0 and lines:
            del lines[at]
        elif op == 1:
            lines.insert(at, draw(st.sampled_from(vocabulary)))
        elif op == 2 and lines:
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
        elif op == 3 and lines:
            lines.insert(at, lines[at])
        elif op == 4:
            lines.insert(at, draw(st.text(max_size=40)))
        elif lines:
            parts = re.split(r"([ :/=;,])", lines[at])
            slot = draw(st.integers(0, len(parts) - 1))
            parts[slot] = draw(st.sampled_from(_TOKENS) | st.text(max_size=8))
            lines[at] = "".join(parts)
    ending = draw(st.sampled_from([sep, "", "\n"]))
    return sep.join(lines) + ending


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: Sequence[bytes], tokens: Sequence[str]) -> bytes:
    """A seed with a few byte flips, splices of interesting tokens, cuts and duplications."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 4))
        at = draw(st.integers(0, len(data)))
        if op == 0 and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == 1:
            data[at:at] = draw(st.sampled_from(tokens)).encode("utf-8", "surrogatepass")
        elif op == 2:
            end = draw(st.integers(at, min(len(data), at + 64)))
            del data[at:end]
        elif op == 3:
            del data[at:]
        else:
            end = draw(st.integers(at, min(len(data), at + 64)))
            data[at:at] = data[at:end]
    return bytes(data)


# -- targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One parser under fuzzing: examples to feed it and the check one example must pass."""

    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    ci_examples: int = 200
    """Examples per CI run: fewer for the targets that open sockets or peer connections."""


def check_sdp(text: str) -> None:
    """Our RTSP SDP parser returns bounded media sections or raises SdpError."""
    with contextlib.suppress(SdpError):
        media = parse_sdp(text)
        assert len(media) <= MAX_MEDIA
        for section in media:
            parameter_sets(section)  # what the depacketiser is primed with


sdp_texts = mutated_lines([CAMERA_SDP, BROWSER_OFFER], SDP_LINES) | st.text(max_size=300)


def check_sprop(value: str) -> None:
    """sprop-parameter-sets of any shape gives a (possibly empty) list of SPS/PPS NAL units."""
    for nal in parameter_sets(SdpMedia("video", 96, fmtp={"sprop-parameter-sets": value})):
        assert nal
        assert nal[0] & 0x1F in (7, 8)


sprop_values = st.text(max_size=80) | st.lists(
    st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode()),
    max_size=5,
).map(",".join)


def check_rtp(data: bytes) -> None:
    """parse_rtp returns a packet whose payload lies inside the datagram, or raises RtpError."""
    try:
        packet = parse_rtp(data)
    except RtpError:
        return
    assert len(packet.payload) <= len(data) - 12
    assert 0 <= packet.payload_type < 128


@st.composite
def rtp_packets(draw: st.DrawFn) -> bytes:
    """RTP-shaped datagrams whose CSRC count, extension and padding may lie about lengths."""
    first = (2 << 6) | draw(st.integers(0, 63))  # version 2, any P/X/CC
    header = bytes([first, draw(st.integers(0, 255))]) + draw(st.binary(min_size=10, max_size=10))
    body = draw(st.binary(max_size=80))
    if first & 0x10 and draw(st.booleans()):
        words = draw(st.integers(0, 0xFFFF))
        body = b"\xbe\xde" + words.to_bytes(2, "big") + body
    if first & 0x20 and body:
        body = body[:-1] + bytes([draw(st.integers(0, 255))])
    return header + body


rtp_datagrams = rtp_packets() | st.binary(max_size=64)


_NAL_TYPES = st.sampled_from([1, 5, 7, 8, 6, 24, 28, 0, 29, 31])


@st.composite
def h264_payloads(draw: st.DrawFn) -> bytes:
    """One RTP payload: single NAL, STAP-A with lying lengths, or an FU-A fragment."""
    kind = draw(_NAL_TYPES)
    nri = draw(st.integers(0, 7)) << 5
    if kind == 28:
        flags = draw(st.sampled_from([0x80, 0x40, 0x00, 0xC0]))
        return bytes([nri | 28, flags | draw(_NAL_TYPES)]) + draw(st.binary(max_size=64))
    if kind == 24:
        out = bytearray([nri | 24])
        for _ in range(draw(st.integers(0, 4))):
            nal = draw(st.binary(min_size=0, max_size=16))
            size = draw(st.sampled_from([len(nal), 0, 0xFFFF, len(nal) + 1]))
            out += size.to_bytes(2, "big") + nal
        return bytes(out)
    return bytes([nri | kind]) + draw(st.binary(max_size=64))


h264_streams = st.lists(
    st.tuples(h264_payloads() | st.binary(max_size=8), st.integers(0, 3), st.booleans()),
    max_size=40,
)


def check_h264(stream: list[tuple[bytes, int, bool]]) -> None:
    """The depacketiser never raises, and never holds or returns more than its byte budget."""
    depacketizer = H264Depacketizer(parameter_sets(SdpMedia("video", 96)))
    for payload, timestamp, marker in stream:
        for unit in depacketizer.push(payload, timestamp, marker):
            assert unit.data.startswith(b"\x00\x00\x00\x01")
            assert len(unit.data) <= MAX_ACCESS_UNIT * 2
        assert depacketizer.buffered_bytes <= 2 * MAX_ACCESS_UNIT


def check_notification_xml(data: bytes) -> None:
    """parse_notifications gives notifications that normalise, or NotificationParseError."""
    refusal = ""
    try:
        notifications = parse_notifications(data)
    except NotificationParseError as exc:
        refusal, notifications = str(exc), []
    # A refusal names a reason, the length and a hash, never the payload itself.
    assert not refusal or re.fullmatch(r"[^()]+ \(\d+ bytes, sha256 [0-9a-f]{16}…\)", refusal)
    for notification in notifications:
        normalize(notification, RECEIVED)
        for _, raw in notification.elements:
            element_fields(raw)


_xml_text = st.text(max_size=24).map(
    lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
)
_xml_word = st.sampled_from(_XML_TOKENS) | _xml_text


_ELEMENTS = [
    "", "<Object><Human>true</Human><Car>false</Car></Object>", "text",
    "<a b='1'><c>on</c></a>", "<tt:x/>",
]  # fmt: skip
_TOPIC_PARTS = [
    "tns1:RuleEngine", "CellMotionDetector", "Motion", "tnsaxis:CameraApplicationPlatform",
    "VMD", "Camera1Profile1", "Device", "Trigger", "Relay", "Monitoring",
]  # fmt: skip
_TIMES = [
    "2030-01-02T03:04:05Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "2030-13-45T25:61:61Z", "",
]  # fmt: skip


@st.composite
def notification_documents(draw: st.DrawFn) -> bytes:
    """Well-formed Notify envelopes with arbitrary topics, operations, times and items."""

    def items(tag: str) -> str:
        return "".join(
            f'<tt:SimpleItem Name="{draw(_xml_text)}" Value="{draw(_xml_text)}"/>'
            for _ in range(draw(st.integers(0, 4)))
        )

    element = draw(st.sampled_from(_ELEMENTS))
    names = ["ClassTypes", "State", "IsPeople", "IsMotion", "ObjectId", "active", "x"]
    data_items = "".join(
        f'<tt:SimpleItem Name="{draw(st.sampled_from(names) | _xml_text)}" '
        f'Value="{draw(_xml_word.filter(lambda w: "<" not in w and chr(34) not in w))}"/>'
        for _ in range(draw(st.integers(0, 4)))
    )
    topic = "/".join(draw(st.lists(_xml_text | st.sampled_from(_TOPIC_PARTS), max_size=5)))
    time = draw(st.sampled_from(_TIMES))
    op = draw(st.sampled_from(["Changed", "Initialized", "Deleted", "", "x"]))
    body = (
        f"<wsnt:NotificationMessage><wsnt:Topic>{topic}</wsnt:Topic><wsnt:Message>"
        f'<tt:Message UtcTime="{time}" PropertyOperation="{op}">'
        f"<tt:Source>{items('Source')}</tt:Source><tt:Key>{items('Key')}</tt:Key>"
        f'<tt:Data>{data_items}<tt:ElementItem Name="{draw(_xml_text)}">{element}'
        "</tt:ElementItem></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>"
    )
    return (
        '<wsnt:Notify xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" '
        f'xmlns:tns1="http://www.onvif.org/ver10/topics">{body * draw(st.integers(1, 3))}'
        "</wsnt:Notify>"
    ).encode()


notification_payloads = (
    mutated_bytes(XML_SEEDS, _XML_TOKENS) | notification_documents() | st.binary(max_size=64)
)

_ZEEP_KEYS = ["Topic", "Message", "_value_1", "Source", "Key", "Data", "SimpleItem",
              "ElementItem", "Name", "Value", "UtcTime", "PropertyOperation"]  # fmt: skip


def _zeep_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function, not a lambda: Hypothesis reads its source to check it recurses.
    keys = st.sampled_from(_ZEEP_KEYS) | st.text(max_size=5)
    return st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5)


zeep_objects = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.datetimes(timezones=st.none() | st.just(UTC))
    | st.sampled_from(_XML_TOKENS),
    _zeep_containers,
    max_leaves=30,
)


def check_zeep(obj: Any) -> None:
    """A zeep dict of any shape gives a notification that normalises, or NotificationParseError."""
    try:
        notification = notification_from_zeep(obj)
    except NotificationParseError:
        return
    normalize(notification, RECEIVED)


def probe_seed(xaddrs: Sequence[str], scopes: Sequence[str]) -> bytes:
    return probe_match(Announcement("urn:uuid:cam-1", scopes, xaddrs), PROBE_ID)


_XADDRS = [
    "http://127.0.0.1:8080/onvif/device_service", "http://127.0.0.1:99999/onvif",
    "http://127.0.0.1:abc/", "http://[::1/", "https://127.0.0.1/", "http://127.0.0.1:0/",
    "http://169.254.169.254/", "file:///etc/passwd", "http://10.0.0.9/", "http://127.1/",
    "http://[::ffff:127.0.0.1]:80/", "http://127.0.0.1:-1/",
]  # fmt: skip
_SCOPES = [
    "onvif://www.onvif.org/name/Front_Door", "onvif://www.onvif.org/hardware/",
    "onvif://www.onvif.org/name/" + "x" * 600, "", "onvif://www.onvif.org/name/%20",
]  # fmt: skip
PROBE_SEEDS = [
    probe_seed(["http://127.0.0.1:8080/onvif/device_service"], _SCOPES[:2]),
    probe_seed(["http://127.0.0.1:8080/a", "http://10.0.0.9/b"], ["x"]),
]


@st.composite
def probe_matches(draw: st.DrawFn) -> bytes:
    """ProbeMatch answers to our probe with arbitrary XAddrs and scopes."""
    xaddrs = draw(st.lists(st.sampled_from(_XADDRS) | st.text(max_size=30), max_size=4))
    scopes = draw(st.lists(st.sampled_from(_SCOPES) | st.text(max_size=30), max_size=70))
    return probe_seed([x.strip() for x in xaddrs], [s.strip() for s in scopes])


probe_datagrams = (
    probe_matches()
    | mutated_bytes(PROBE_SEEDS, [*_XML_TOKENS, *_XADDRS, PROBE_ID])
    | st.binary(max_size=64)
)


def check_probe_match(data: bytes) -> None:
    """parse_probe_match never raises; what it accepts points at the sender."""
    for device in parse_probe_match(data, SENDER, {PROBE_ID}):
        assert device.host == SENDER
        assert 1 <= device.port <= 65535


_CONFIG_SEED = (REPO / "config.example.yaml").read_text()
_YAML_LINES = [
    "a: 2001-02-30", "? [1]", ": 2", "x: &a [*a]", "x: *nowhere", "- &a [*a, *a]", "[[[[[[",
    "{? {a: 1}: 2}", "x: !!binary zz", "x: !!int abc", "x: !!float x", "x: !!set {a}",
    "x: !!python/object/apply:os.system [id]", "x: !!timestamp 2001-13-01", "<<: *a",
    "cameras: [{id: a}, {id: a}]", "version: 99", "x: ${UNSET}", "x: $$", "---", "...",
    "x: 1e999", "x: 0x", "x: 0o9", "port: 70000", "x: !!omap [a]", "x: !!pairs {a: 1}",
    "x: \"\\ud800\"", "\t", "%YAML 1.1", "%TAG ! tag:x,", "x: &a 1\ny: &a 2",
]  # fmt: skip


def _yaml_dump(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=None)


def _yaml_containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function, not a lambda: Hypothesis reads its source to check it recurses.
    return st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(
            ["server", "cameras", "id", "host", "port", "live", "storage", "version", "x"]
        )
        | st.text(max_size=5),
        children,
        max_size=5,
    )


_yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.dates()
    | st.datetimes(),
    _yaml_containers,
    max_leaves=25,
)
yaml_texts = (
    mutated_lines([_CONFIG_SEED, "cameras:\n  - id: a\n    host: 127.0.0.1\n"], _YAML_LINES, "\n")
    | _yaml_values.map(_yaml_dump)
    | st.lists(st.sampled_from(_YAML_LINES) | st.text(max_size=20), max_size=8).map("\n".join)
)


def check_config(text: str) -> None:
    """parse_config returns a Config or raises ConfigError, however odd the YAML."""
    with contextlib.suppress(ConfigError):
        parse_config(text, "fuzz.yaml", env={})


# -- RTSP responses, through a real loopback socket --------------------------------------------


@st.composite
def rtsp_answers(draw: st.DrawFn) -> bytes:
    """A well-framed answer with hostile header values and a mutated SDP body."""
    status = draw(st.sampled_from(["200 OK", "401 Unauthorized", "302 Found", "200", "²00 OK"]))
    headers = ["CSeq: 1", *draw(st.lists(st.sampled_from(_HEADER_LINES), max_size=4))]
    body = draw(mutated_lines([CAMERA_SDP], SDP_LINES)).encode("utf-8", "surrogatepass")
    length = draw(st.sampled_from([len(body), len(body), 0, len(body) + 10]))
    head = "\r\n".join([f"RTSP/1.0 {status}", *headers, f"Content-Length: {length}", "", ""])
    return head.encode("utf-8", "surrogatepass") + body


rtsp_responses = (
    rtsp_answers()
    | mutated_lines(_RESPONSES, [*_HEADER_LINES, *SDP_LINES]).map(
        lambda s: s.encode("utf-8", "surrogatepass")
    )
    | mutated_bytes([r.encode() for r in _RESPONSES], [*_HEADER_LINES, "\r\n\r\n", "$"])
    | st.binary(max_size=64)
)


async def describe_against(answer: bytes, suppress: bool = True) -> None:
    """DESCRIBE against a loopback server that answers `answer` and hangs up; the client's own
    errors (RtspError, SdpError) are swallowed unless `suppress` is False."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RtspClient(f"rtsp://127.0.0.1:{port}/stream", "admin", "secret", timeout=5)
    try:
        async with client:
            with contextlib.suppress(*((RtspError, SdpError) if suppress else ())):
                media = await client.describe()
                assert len(media) <= MAX_MEDIA
                for section in media:
                    with contextlib.suppress(RtspError):
                        client.control_url(section)
    finally:
        server.close()
        await server.wait_closed()


def check_rtsp(answer: bytes) -> None:
    """RtspClient.describe against any answer raises only RtspError or SdpError."""
    asyncio.run(describe_against(answer))


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("sdp", sdp_texts, check_sdp),
        Target("sprop", sprop_values, check_sprop),
        Target("rtp", rtp_datagrams, check_rtp),
        Target("h264", h264_streams, check_h264),
        Target("onvif_xml", notification_payloads, check_notification_xml),
        Target("onvif_zeep", zeep_objects, check_zeep),
        Target("wsdiscovery", probe_datagrams, check_probe_match),
        Target("config", yaml_texts, check_config),
        Target("rtsp", rtsp_responses, check_rtsp, ci_examples=100),
    )
}
"""Every target by name (the HTTP-level ones live with their tests)."""


# -- offers handed to aiortc, through LiveService.start -----------------------------------------

offer_texts = mutated_lines([BROWSER_OFFER], SDP_LINES)


def _unreachable_camera() -> StreamTarget:
    return StreamTarget("rtsp://127.0.0.1:9/none", None, None)  # discard port: refused at once


async def answer_offers(offers: Sequence[str], expect_refusal: bool = False) -> None:
    """Each offer through a real LiveService: answered (then hung up) or refused with LiveError
    (with `expect_refusal`, every one must be refused)."""
    hub = StreamHub()
    service = LiveService(hub, [], host_addresses=["127.0.0.1"])  # ICE on loopback only
    try:
        for sdp in offers:
            try:
                session = await service.start("fuzz", _unreachable_camera, sdp, "fuzzer")
            except LiveError as exc:
                refusal: LiveError | None = exc
            else:
                refusal = None
                await service.stop(session.id)
            assert refusal is None or (400 <= refusal.status < 500 and str(refusal)), refusal
            assert refusal is not None or not expect_refusal, sdp
    finally:
        await service.close()
        await hub.close()


def check_offer(sdp: str) -> None:
    """LiveService.start answers an offer or refuses it with LiveError (a 4xx), nothing else."""
    asyncio.run(answer_offers([sdp]))


TARGETS["offer"] = Target("offer", offer_texts, check_offer, ci_examples=60)


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` generated examples (repeatable), for properties checked inside an event loop."""
    found: list[Any] = []

    def keep(value: Any) -> None:
        found.append(value)

    settings(FUZZ_SETTINGS, max_examples=count, derandomize=True, phases=[Phase.generate])(
        given(strategy)(keep)
    )()
    return found
