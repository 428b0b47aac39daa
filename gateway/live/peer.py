"""One viewer's peer connection: what the call holds, the tracks and codecs it sends, and
closing it without blocking the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.sdp import SessionDescription

from doorstep.gateway.live.prepared import WarmHold
from doorstep.gateway.live.talk import MicPump
from doorstep.gateway.live.track import CameraAudioTrack, PassthroughVideoTrack
from doorstep.gateway.media.consumer import Consumer


@dataclass
class LiveSession:
    """One viewer: whose, which camera, and the peer connection."""

    id: str
    username: str
    camera_id: str
    pc: RTCPeerConnection
    track: PassthroughVideoTrack
    audio: CameraAudioTrack | None = None
    mic: MicPump | None = None
    still_allowed: Callable[[], Awaitable[bool]] | None = None
    """Re-checks the viewer's sign-in and camera grant; False ends the call."""
    ip: str = ""
    """Where the call was answered from (audited with everything that happens to it)."""
    talk_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Press and release one at a time: a release waits for the speaker it closes to open."""
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the peer connection first connects (ICE and DTLS done)."""
    deadline: asyncio.Task[None] | None = None
    """Ends the call unless it connects within the service's `connect_timeout_s`."""
    auth_session: str = field(default="", repr=False)
    """The sign-in (session hash) that made the call: one page answers a ring once."""
    ring_id: str | None = None
    """The ring this call answered or was prepared for."""
    hold: WarmHold | None = None
    """Set while the call is prepared: media paused, the camera's stream kept warm."""
    prepared_for: asyncio.Task[None] | None = None
    """Ends a prepared call nobody answers within the ring time."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the call started (for a prepared call: when it was answered)."""

    @property
    def prepared(self) -> bool:
        """Prepared and not answered yet: nothing is sent, and it is nobody's call yet."""
        return self.hold is not None


async def stop_decoders(pc: RTCPeerConnection) -> None:
    """End aiortc's decoder threads off the event loop.

    aiortc's `RTCRtpReceiver.stop()` joins its decoder thread on the loop (a blocking wait). Ending
    the thread here first, in a worker thread, leaves that join nothing to wait for. If aiortc's
    internals change, the getattr calls find nothing and aiortc's own stop does the work.
    """
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        thread = getattr(receiver, "_RTCRtpReceiver__decoder_thread", None)
        queue = getattr(receiver, "_RTCRtpReceiver__decoder_queue", None)
        if thread is not None and queue is not None and thread.is_alive():
            queue.put(None)  # the decoder thread's stop signal
            await asyncio.to_thread(thread.join, 2)


def sent_audio_codec(pc: RTCPeerConnection, track: CameraAudioTrack) -> str | None:
    """The codec our answer chose for the camera's sound (`PCMU`, `opus`, ...), if any."""
    local = pc.localDescription
    transceiver = next((t for t in pc.getTransceivers() if t.sender.track is track), None)
    if local is None or transceiver is None or transceiver.mid is None:
        return None
    sections = SessionDescription.parse(local.sdp).media
    media = next((m for m in sections if m.rtp.muxId == transceiver.mid), None)
    if media is None or not media.rtp.codecs:
        return None
    return media.rtp.codecs[0].mimeType.partition("/")[2]  # aiortc sends with the first


def add_transceiver(
    session: LiveSession,
    consumer: Consumer | None,
    audio_encoding: str | None,
    kind: str,
    direction: str,
) -> None:
    """Add the transceiver that answers one of the offer's sections, with its codecs (no
    consumer: a prepared call's, paused until it is answered; `audio_encoding` is the camera's
    audio codec as last seen)."""
    pc = session.pc
    if kind == "video":
        transceiver = pc.addTransceiver(session.track, direction="sendonly")
        # H.264 only (with its retransmission), so the camera's stream passes through.
        codecs = RTCRtpSender.getCapabilities("video").codecs
        transceiver.setCodecPreferences(
            [c for c in codecs if c.mimeType in ("video/H264", "video/rtx")]
        )
        return
    audio_codecs = RTCRtpSender.getCapabilities("audio").codecs
    # Payload types must not overlap between the two audio sections: aiortc routes an
    # incoming packet of unknown SSRC by payload type, and drops it when two receivers share
    # one. So the camera's sound is G.711 only (costs nothing) and the microphone Opus only.
    if direction == "recvonly":  # the camera's audio to the browser
        if session.audio is None:
            session.audio = CameraAudioTrack(consumer)
        transceiver = pc.addTransceiver(session.audio, direction="sendonly")
        # The camera's own codec first: then its audio passes through untouched.
        order = ["audio/PCMU", "audio/PCMA"]
        if audio_encoding == "PCMA":
            order.reverse()
    elif direction == "sendrecv" and session.audio is None:  # both in one section
        session.audio = CameraAudioTrack(consumer)
        transceiver = pc.addTransceiver(session.audio, direction="sendrecv")
        order = ["audio/opus", "audio/PCMU", "audio/PCMA"]
    else:  # the browser's microphone
        transceiver = pc.addTransceiver("audio", direction="recvonly")
        order = ["audio/opus"]
    transceiver.setCodecPreferences(
        sorted(
            (c for c in audio_codecs if c.mimeType in order),
            key=lambda c: order.index(c.mimeType),
        )
    )


async def close_peer(session: LiveSession) -> None:
    """Close the call's microphone, tracks and peer connection (the decoders off the loop)."""
    if session.hold is not None:
        session.hold.close()
    if session.mic is not None:
        await session.mic.close()
    session.track.stop()
    if session.audio is not None:
        session.audio.stop()
    await stop_decoders(session.pc)
    await session.pc.close()
