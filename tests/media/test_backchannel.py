"""Talk to a camera's speaker: Doorstep's RTSP backchannel client against GStreamer's ONVIF RTSP
server (a real third-party peer) and the simulator, fed by the talk encoder the way aiortc
hands over a browser's microphone (20 ms of s16 stereo at 48 kHz)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.frame import AudioFrame

from doorstep.gateway.media.talk_codec import TalkEncoder, UnsupportedTalkCodec
from doorstep.protocols.backchannel import NoBackchannel, RtspBackchannel
from doorstep.simulator import SimulatedDevice
from doorstep.simulator.media import dominant_frequency, ulaw_decode

GST_SERVER = Path(__file__).resolve().parent.parent / "peers" / "gst_onvif_server.py"
BROWSER_RATE = 48_000


def microphone_frames(hz: float, seconds: float) -> list[AudioFrame]:
    """What aiortc's Opus decoder yields: 20 ms frames of s16 stereo at 48 kHz."""
    samples = BROWSER_RATE // 50
    frames = []
    for index in range(int(seconds * 50)):
        t = (np.arange(samples) + index * samples) / BROWSER_RATE
        mono = (np.sin(2 * np.pi * hz * t) * 9000).astype(np.int16)
        frame = AudioFrame.from_ndarray(
            np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = BROWSER_RATE
        frame.pts = index * samples
        frame.time_base = Fraction(1, BROWSER_RATE)
        frames.append(frame)
    return frames


async def talk(channel: RtspBackchannel, hz: float, seconds: float) -> int:
    """Send a tone in real time, as a resident holding Talk would; returns packets sent."""
    encoder = TalkEncoder(channel.codec, channel.sample_rate, channel.fmtp)
    sent = 0
    for frame in microphone_frames(hz, seconds):
        for payload, _ in encoder.encode(frame):
            await channel.send(payload)
            sent += 1
        await asyncio.sleep(0.02)
    return sent


@pytest.fixture
async def gstreamer(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """GStreamer's RTSPOnvifServer (Debian packages, system python3) on a free loopback port."""
    out = tmp_path / "speaker.ulaw"
    process = await asyncio.create_subprocess_exec(
        "/usr/bin/python3", str(GST_SERVER), "0", "admin", "gst secret", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 20)
    assert line.startswith(b"READY "), line
    port = int(line.split()[1])
    yield f"rtsp://127.0.0.1:{port}/onvif", out
    process.terminate()
    with contextlib.suppress(ProcessLookupError):
        await asyncio.wait_for(process.wait(), 5)


@pytest.mark.alone  # GStreamer prepares the x264 media before the backchannel: CPU-starved, it
# drops what arrives before it plays (the loop below waits for that)
async def test_a_tone_reaches_gstreamers_onvif_backchannel(gstreamer: tuple[str, Path]) -> None:
    url, out = gstreamer
    channel = await RtspBackchannel.open(url, "admin", "gst secret")
    try:  # closed even when an assertion fails: a leaked socket would fail the next test
        assert (channel.codec, channel.sample_rate) == ("PCMU", 8000)
        # GStreamer prepares the backchannel with the camera's (x264) media: on a loaded machine
        # it drops what arrives before it plays. Talk until the first bytes land, then measure.
        for _ in range(40):
            await talk(channel, 1000.0, 0.5)
            if out.stat().st_size > 0:
                break
        start = out.stat().st_size
        assert start > 0, "nothing reached GStreamer's backchannel in 20 s"
        sent = await talk(channel, 1000.0, 2.0)
    finally:
        await channel.close()
    assert sent >= 95
    for _ in range(100):  # the server's jitter buffer holds ~200 ms
        if out.stat().st_size - start >= 160 * (sent - 5):
            break
        await asyncio.sleep(0.1)
    received = out.read_bytes()[start:]
    assert len(received) >= 160 * (sent - 5), (len(received), sent)
    pcm = ulaw_decode(received)
    assert abs(dominant_frequency(pcm) - 1000.0) < 10


async def test_gstreamer_refuses_a_wrong_password(gstreamer: tuple[str, Path]) -> None:
    url, _ = gstreamer
    with pytest.raises(Exception, match="401"):
        await RtspBackchannel.open(url, "admin", "wrong")


async def test_release_tears_the_backchannel_down(doorbell: SimulatedDevice) -> None:
    recorder = doorbell.rtsp_settings.recorder
    recorder.clear()
    channel = await RtspBackchannel.open(
        doorbell.rtsp_url("main"), doorbell.profile.username, doorbell.profile.password
    )
    assert doorbell._rtsp.active_sessions == 1
    await talk(channel, 600.0, 1.0)
    await channel.close()
    for _ in range(250):
        if doorbell._rtsp.active_sessions == 0:
            break
        await asyncio.sleep(0.02)
    assert doorbell._rtsp.active_sessions == 0  # the doorbell's button is free again
    assert recorder.packets >= 45
    assert abs(dominant_frequency(ulaw_decode(bytes(recorder.audio))) - 600.0) < 10
    with pytest.raises(Exception, match="closed"):
        await channel.send(b"\xff" * 160)


async def test_a_camera_without_a_speaker_says_so(camera: SimulatedDevice) -> None:
    with pytest.raises(NoBackchannel, match="no audio backchannel"):
        await RtspBackchannel.open(
            camera.rtsp_url("main"), camera.profile.username, camera.profile.password
        )
    for _ in range(250):  # polled: a fixed pause raced the server's close on a loaded machine
        if camera._rtsp.active_sessions == 0:
            break
        await asyncio.sleep(0.02)
    assert camera._rtsp.active_sessions == 0  # nothing left open on the camera


def test_aac_payloads_decode_back_to_the_tone() -> None:
    encoder = TalkEncoder("AAC", 16000, {"mode": "AAC-hbr", "sizelength": "13"})
    payloads = [p for frame in microphone_frames(440.0, 1.0) for p in encoder.encode(frame)]
    assert payloads
    assert all(samples == 1024 for _, samples in payloads)
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = encoder._context.extradata
    pcm = []
    for payload, _ in payloads:
        assert payload[:2] == b"\x00\x10"  # AU-headers-length: one 16-bit header
        size = int.from_bytes(payload[2:4], "big") >> 3
        assert size == len(payload) - 4
        for frame in decoder.decode(av.Packet(payload[4:])):
            pcm.append(frame.to_ndarray()[0])
    signal = (np.concatenate(pcm) * 32767).astype(np.int16)
    assert abs(dominant_frequency(signal, 16000) - 440.0) < 10


def test_an_unknown_codec_is_refused_with_a_reason() -> None:
    with pytest.raises(UnsupportedTalkCodec, match="G726"):
        TalkEncoder("G726-32", 8000)
