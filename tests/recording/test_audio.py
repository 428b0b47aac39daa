"""G.711 made into AAC for clips: lost packets become silence (the audio keeps in step with the
video), a restart of the camera's timestamps is not filled, A-law works as µ-law does, and a
tone decodes back to its pitch."""

from __future__ import annotations

import av
import numpy as np
import pytest

from doorstep.gateway.recording.audio import AAC_FRAME_SAMPLES, AudioPayload, AudioTranscoder
from doorstep.simulator.media import dominant_frequency, tone_ulaw

RATE = 8000
PACKET = 160  # 20 ms


def packets(seconds: float, start: int = 0, skip: range = range(0)) -> list[AudioPayload]:
    """`seconds` of a tone in 20 ms packets; the packets whose index is in `skip` are lost."""
    tone = bytes((0x10 + (i * 7) % 0x60) for i in range(PACKET))  # any non-silent bytes
    count = round(seconds * RATE / PACKET)
    return [AudioPayload(tone, start + i * PACKET) for i in range(count) if i not in skip]


def samples_out(encoding: str, payloads: list[AudioPayload]) -> int:
    transcoder = AudioTranscoder(encoding, RATE)
    frames = transcoder.encode(payloads) + transcoder.flush()
    assert all(frames)
    return len(frames) * AAC_FRAME_SAMPLES


@pytest.mark.parametrize("encoding", ["PCMU", "PCMA"])
def test_lost_packets_become_silence_so_audio_keeps_its_length(encoding: str) -> None:
    whole = samples_out(encoding, packets(3.0))
    lossy = samples_out(encoding, packets(3.0, skip=range(50, 100)))  # 1 s lost
    assert abs(whole - 3 * RATE) <= 3 * AAC_FRAME_SAMPLES
    assert lossy == whole  # the lost second is there, as silence


def test_a_timestamp_restart_is_not_filled() -> None:
    first = packets(1.0, start=1_000_000)
    restarted = packets(1.0, start=5)  # the camera rebooted: its clock began again
    out = samples_out("PCMU", first + restarted)
    assert abs(out - 2 * RATE) <= 3 * AAC_FRAME_SAMPLES


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="no recording"):
        AudioTranscoder("opus", 48000)


def test_a_tone_comes_out_of_the_aac_as_it_went_in() -> None:
    tone = tone_ulaw(1000.0, 2)
    payloads = [AudioPayload(tone[i : i + PACKET], i) for i in range(0, len(tone), PACKET)]
    transcoder = AudioTranscoder("PCMU", RATE)
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = transcoder.config
    decoded = []
    for frame in transcoder.encode(payloads) + transcoder.flush():
        for out in decoder.decode(av.Packet(frame)):
            decoded.append(out.to_ndarray().reshape(-1))
    pcm = (np.concatenate(decoded) * 32767).astype(np.int16)
    assert len(pcm) >= 1.9 * RATE
    assert abs(dominant_frequency(pcm[RATE // 4 :], RATE) - 1000.0) < 10
