"""Live-view sessions: WHEP-style offer/answer over HTTP, one aiortc peer connection each."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from ..media.hub import StreamHub, StreamTarget
from .track import PassthroughVideoTrack

_log = logging.getLogger(__name__)

MAX_SDP_BYTES = 64 * 1024
MAX_CANDIDATE_LINES = 64
MAX_SESSIONS_PER_USER = 4
MAX_SESSIONS = 32


class LiveError(Exception):
    """A live-view request refused, with a reason for the user; `status` suggests the HTTP code."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class LiveSession:
    """One viewer: whose, which camera, and the peer connection."""

    id: str
    username: str
    camera_id: str
    pc: RTCPeerConnection
    track: PassthroughVideoTrack


class LiveService:
    """Creates, tracks and closes live-view peer connections."""

    def __init__(self, hub: StreamHub, ice_servers: list[str]) -> None:
        self._hub = hub
        self._ice = [RTCIceServer(urls=url) for url in ice_servers]  # empty: no public STUN
        self.sessions: dict[str, LiveSession] = {}

    async def start(
        self, camera_id: str, target: Callable[[], StreamTarget], offer_sdp: str, username: str
    ) -> LiveSession:
        """Answer a browser's offer with the camera's video; the answer carries our candidates."""
        if len(offer_sdp.encode()) > MAX_SDP_BYTES:
            raise LiveError("the offer is too large", 413)
        if (
            sum(line.startswith("a=candidate") for line in offer_sdp.splitlines())
            > MAX_CANDIDATE_LINES
        ):
            raise LiveError("the offer has too many candidates", 413)
        if "m=video" not in offer_sdp:
            raise LiveError("the offer asks for no video")
        mine = [s for s in self.sessions.values() if s.username == username]
        if len(mine) >= MAX_SESSIONS_PER_USER or len(self.sessions) >= MAX_SESSIONS:
            raise LiveError("too many live views open; hang one up first", 429)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice))
        consumer = self._hub.stream(f"{camera_id}/main", target).consume()
        track = PassthroughVideoTrack(consumer)
        session = LiveSession(secrets.token_urlsafe(16), username, camera_id, pc, track)
        try:
            transceiver = pc.addTransceiver(track, direction="sendonly")
            # aiortc honours codec preferences only when set before the offer is applied; H.264
            # first (and only, with its retransmission) so the camera's stream passes through.
            codecs = RTCRtpSender.getCapabilities("video").codecs
            transceiver.setCodecPreferences(
                [c for c in codecs if c.mimeType in ("video/H264", "video/rtx")]
            )
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, AttributeError) as exc:
            await self._close(session)
            raise LiveError(f"unusable offer: {exc}") from None
        self.sessions[session.id] = session

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.stop(session.id)

        return session

    async def _close(self, session: LiveSession) -> None:
        session.track.stop()
        await session.pc.close()

    async def stop(self, session_id: str) -> LiveSession | None:
        """Hang up a session (idempotent)."""
        session = self.sessions.pop(session_id, None)
        if session is not None:
            await self._close(session)
        return session

    async def stop_user(self, username: str) -> None:
        """Hang up every session of a user (their sign-in was revoked)."""
        for session in [s for s in self.sessions.values() if s.username == username]:
            await self.stop(session.id)

    async def close(self) -> None:
        """Hang up everything (shutdown)."""
        await asyncio.gather(*(self.stop(sid) for sid in list(self.sessions)))
