"""The simulator's RTSP server read by third-party clients (FFmpeg via PyAV, GStreamer) and
fed through the ONVIF backchannel by the gateway's own RTSP client."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import av
import pytest

from doorstep.protocols.rtp import RtpStream, parse_rtp
from doorstep.protocols.rtsp_client import RtspClient, RtspStatusError
from doorstep.simulator import SimulatedDevice, Simulator, SimulatorConfig
from doorstep.simulator.command import add_simulate_arguments
from doorstep.simulator.device_service import _profiles
from doorstep.simulator.library import MediaLibrary
from doorstep.simulator.media import dominant_frequency, tone_ulaw, ulaw_decode

GST_READER = Path(__file__).resolve().parent.parent / "peers" / "gst_rtsp_read.py"


def with_credentials(url: str, device: SimulatedDevice) -> str:
    return url.replace("rtsp://", f"rtsp://{device.profile.username}:{device.profile.password}@")


def read_with_ffmpeg(url: str, frames: int) -> dict[str, object]:
    """Open with FFmpeg's RTSP demuxer (PyAV) and decode some video frames (blocking)."""
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10) as container:
        video = container.streams.video[0]
        audio = [s.codec_context.name for s in container.streams.audio]
        decoded = 0
        for _ in container.decode(video=0):
            decoded += 1
            if decoded >= frames:
                break
        return {"width": video.codec_context.width, "height": video.codec_context.height,
                "audio": audio, "decoded": decoded}  # fmt: skip


async def test_ffmpeg_reads_video_and_audio(doorbell: SimulatedDevice) -> None:
    result = await asyncio.to_thread(
        read_with_ffmpeg, with_credentials(doorbell.rtsp_url("main"), doorbell), 20
    )
    assert result == {"width": 640, "height": 360, "audio": ["pcm_mulaw"], "decoded": 20}


async def test_ffmpeg_reads_the_sub_stream(camera: SimulatedDevice) -> None:
    result = await asyncio.to_thread(
        read_with_ffmpeg, with_credentials(camera.rtsp_url("sub"), camera), 5
    )
    assert (result["width"], result["height"]) == (320, 180)


async def test_gstreamer_rtspsrc_plays_it(doorbell: SimulatedDevice) -> None:
    process = await asyncio.create_subprocess_exec(
        "/usr/bin/python3", str(GST_READER), doorbell.rtsp_url("main"),
        doorbell.profile.username, doorbell.profile.password, "30", "20",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result == {"buffers": result["buffers"], "width": 640, "height": 360, "error": None}, (
        err.decode()
    )
    assert result["buffers"] >= 30


async def test_wrong_password_gets_401(doorbell: SimulatedDevice) -> None:
    async with RtspClient(doorbell.rtsp_url(), doorbell.profile.username, "wrong") as client:
        with pytest.raises(RtspStatusError) as refused:
            await client.describe()
    assert refused.value.status == 401


async def test_camera_without_backchannel_answers_551(camera: SimulatedDevice) -> None:
    async with RtspClient(
        camera.rtsp_url(), camera.profile.username, camera.profile.password
    ) as client:
        with pytest.raises(RtspStatusError) as refused:
            await client.describe(backchannel=True)
        assert refused.value.status == 551
        media = await client.describe()  # without the feature tag it serves as usual
    assert [m.direction for m in media] == ["recvonly", "recvonly"]


async def test_backchannel_receives_a_1khz_tone(
    simulator: Simulator, doorbell: SimulatedDevice
) -> None:
    async with RtspClient(
        doorbell.rtsp_url(), doorbell.profile.username, doorbell.profile.password
    ) as client:
        media = await client.describe(backchannel=True)
        backchannel = next(m for m in media if m.is_backchannel)
        assert (backchannel.encoding, backchannel.clock_rate) == ("PCMU", 8000)
        await client.setup(backchannel, 4, backchannel=True)
        await client.play(backchannel=True)
        tone = tone_ulaw(1000.0, seconds=1)
        stream = RtpStream(payload_type=0, ssrc=0x1234, sequence=1, timestamp=0)
        for offset in range(0, len(tone), 160):
            client.send(4, stream.packet(tone[offset : offset + 160], marker=offset == 0))
            stream.timestamp += 160
            await asyncio.sleep(0.02)
    recorder = doorbell.rtsp_settings.recorder
    for _ in range(50):
        if recorder.packets >= 50:
            break
        await asyncio.sleep(0.02)
    assert recorder.packets == 50
    assert abs(dominant_frequency(ulaw_decode(bytes(recorder.audio))) - 1000.0) < 5


async def test_played_stream_carries_h264_rtp(doorbell: SimulatedDevice) -> None:
    async with RtspClient(
        doorbell.rtsp_url(), doorbell.profile.username, doorbell.profile.password
    ) as client:
        media = await client.describe()
        video = media[0]
        assert video.encoding == "H264"
        assert "sprop-parameter-sets" in video.fmtp
        await client.setup(video, 0)
        await client.play()
        channel, data = await client.packet(wait_s=5)
        assert channel == 0
        packet = parse_rtp(data)
        assert packet.payload_type == 96
        assert packet.payload[0] & 0x1F in (1, 5, 6, 7, 8, 28)  # an H.264 NAL or FU-A


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\x01\x02garbage\r\n\r\n", b"DESCRIBE\r\n\r\n",
     b"OPTIONS * RTSP/1.0\r\nContent-Length: 99999999\r\n\r\n", b"X" * 40_000],
)  # fmt: skip
async def test_garbage_does_not_take_the_server_down(
    doorbell: SimulatedDevice, garbage: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", doorbell.profile.rtsp_port)
    writer.write(garbage)
    await writer.drain()
    await asyncio.wait_for(reader.read(), 5)  # the server closes the connection
    writer.close()
    async with RtspClient(
        doorbell.rtsp_url(), doorbell.profile.username, doorbell.profile.password
    ) as client:
        assert len(await client.describe()) == 2


async def test_a_camera_set_to_30_fps_and_a_bitrate_streams_at_them() -> None:
    """`simulate --fps 30 --bitrate 1500`, as a benchmark uses it: measured on the wire."""
    config = SimulatorConfig(cameras=1, doorbells=0, discovery_port=0, fps=30, bitrate_kbps=1500)
    async with Simulator(config, MediaLibrary()) as simulator:
        camera = next(iter(simulator.devices.values()))
        assert "<tt:FrameRateLimit>30</tt:FrameRateLimit>" in _profiles(camera)["profile_main"]
        async with RtspClient(
            camera.rtsp_url(), camera.profile.username, camera.profile.password
        ) as client:
            video = (await client.describe())[0]
            await client.setup(video, 0)
            await client.play()
            timestamps: set[int] = set()
            payload = 0
            started = asyncio.get_running_loop().time()
            while asyncio.get_running_loop().time() - started < 3.0:
                channel, data = await client.packet(wait_s=5)
                if channel == 0:
                    packet = parse_rtp(data)
                    timestamps.add(packet.timestamp)
                    payload += len(packet.payload)
    fps = len(timestamps) / 3.0
    kbps = payload * 8 / 3.0 / 1000
    assert 27 <= fps <= 33, fps
    assert 1000 <= kbps <= 2000, kbps  # the encoder's rate control over 3 s, not exact


@pytest.mark.parametrize("bad", [["--fps", "0"], ["--fps", "120"], ["--bitrate", "5"]])
def test_simulate_refuses_a_frame_rate_or_bitrate_no_camera_has(
    bad: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(bad)
    assert "must be from" in capsys.readouterr().err
