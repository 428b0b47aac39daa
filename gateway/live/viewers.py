"""Live-view sessions: WHEP-style offer/answer over HTTP, one aiortc peer connection each."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.sdp import SessionDescription

from doorstep.gateway.live.talk import ActiveTalk, MicPump
from doorstep.gateway.live.track import CameraAudioTrack, PassthroughVideoTrack
from doorstep.gateway.media.hub import Consumer, StreamHub, StreamTarget
from doorstep.sdk import DeviceUnavailable, TalkSink, Unsupported

_log = logging.getLogger(__name__)

MAX_SDP_BYTES = 64 * 1024
MAX_CANDIDATE_LINES = 64
MAX_SESSIONS_PER_USER = 4
MAX_SESSIONS = 32
RECHECK_S = 2.0

LiveAudit = Callable[[str, str, str, str, dict[str, Any]], Awaitable[None]]
"""Records a call's event in the audit log: (user, action, target, ip, detail)."""


async def _stop_decoders(pc: RTCPeerConnection) -> None:
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


def _sent_audio_codec(pc: RTCPeerConnection, track: CameraAudioTrack) -> str | None:
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
    audio: CameraAudioTrack | None = None
    mic: MicPump | None = None
    still_allowed: Callable[[], Awaitable[bool]] | None = None
    """Re-checks the viewer's sign-in and camera grant; False ends the call."""
    ip: str = ""
    """Where the call was answered from (audited with everything that happens to it)."""
    talk_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Press and release one at a time: a release waits for the speaker it closes to open."""


class _StartSlot:
    """An offer being answered, counted toward its user's cap until it is a session or refused."""

    def __init__(self, starting: Counter[str], username: str) -> None:
        self._starting = starting
        self._username = username
        self._held = True
        starting[username] += 1

    def release(self) -> None:
        """Stop counting it (idempotent)."""
        if self._held:
            self._held = False
            self._starting[self._username] -= 1
            if self._starting[self._username] <= 0:
                del self._starting[self._username]


class AccessFollow(Protocol):
    """Tells a call at once that its account's access may have changed (see auth.revocation)."""

    stale: bool

    async def wait(self) -> None:
        """Return at the next change."""

    def close(self) -> None:
        """Stop following."""


class LiveService:
    """Creates, tracks and closes live-view peer connections, and audits each call's start,
    talk and end, however it ends (hang-up, lost connection, revoked access, shutdown)."""

    def __init__(
        self, hub: StreamHub, ice_servers: list[RTCIceServer], audit: LiveAudit | None = None
    ) -> None:
        self._hub = hub
        self.ice_servers = list(ice_servers)  # empty: no public STUN is contacted
        self._audit_hook = audit
        self.sessions: dict[str, LiveSession] = {}
        self._starting: Counter[str] = Counter()
        """Offers being answered, per user: they count toward the caps already."""
        self._watch: asyncio.Task[None] | None = None
        self._followers: dict[str, tuple[asyncio.Task[None], AccessFollow]] = {}

    async def _audit(self, session: LiveSession, action: str, **detail: Any) -> None:
        if self._audit_hook is None:
            return
        try:
            await self._audit_hook(
                session.username, action, f"camera:{session.camera_id}", session.ip,
                {"session": session.id[:8], **detail},
            )  # fmt: skip
        except Exception as exc:  # an audit failure must not leave a call half-closed
            _log.error("audit of %s failed: %s", action, type(exc).__name__)

    async def _talk_ended(self, session: LiveSession, talk: ActiveTalk, reason: str) -> None:
        detail: dict[str, Any] = {
            "seconds": round(time.monotonic() - talk.started, 1),
            "frames": talk.frames,
            "reason": reason,
        }
        if talk.error:
            detail["error"] = talk.error[:200]
        await self._audit(session, "talk.stop", **detail)

    async def start(
        self,
        camera_id: str,
        target: Callable[[], StreamTarget],
        offer_sdp: str,
        username: str,
        still_allowed: Callable[[], Awaitable[bool]] | None = None,
        ip: str = "",
    ) -> LiveSession:
        """Answer a browser's offer with the camera's video; the answer carries our candidates."""
        if len(offer_sdp.encode()) > MAX_SDP_BYTES:
            raise LiveError("the offer is too large", 413)
        if (
            sum(line.startswith("a=candidate") for line in offer_sdp.splitlines())
            > MAX_CANDIDATE_LINES
        ):
            raise LiveError("the offer has too many candidates", 413)
        try:
            offer = SessionDescription.parse(offer_sdp)
        except Exception as exc:  # aiortc's parser fails on bad input with whatever it hits
            raise LiveError(f"unreadable offer: {type(exc).__name__}") from None
        mids = [m.rtp.muxId for m in offer.media if m.rtp.muxId]
        bundled = {str(mid) for g in offer.group if g.semantic == "BUNDLE" for mid in g.items}
        if len(set(mids)) != len(mids) or not bundled <= set(mids):
            # aiortc's createAnswer, and then its close, fail on a bundle with no section.
            raise LiveError("unreadable offer: its BUNDLE group and media sections disagree")
        kinds = [
            (m.kind, m.direction or "sendrecv") for m in offer.media if m.kind in ("audio", "video")
        ]
        if not any(k == "video" and d in ("recvonly", "sendrecv") for k, d in kinds):
            raise LiveError("the offer asks for no video")
        audio_out = sum(k == "audio" and d in ("recvonly", "sendrecv") for k, d in kinds)
        audio_in = sum(k == "audio" and d in ("sendonly", "sendrecv") for k, d in kinds)
        if sum(k == "video" for k, _ in kinds) > 1 or audio_out > 1 or audio_in > 1:
            raise LiveError("the offer has more media than a live view uses")
        mine = sum(s.username == username for s in self.sessions.values())
        mine += self._starting[username]
        if (
            mine >= MAX_SESSIONS_PER_USER
            or len(self.sessions) + self._starting.total() >= MAX_SESSIONS
        ):
            raise LiveError("too many live views open; hang one up first", 429)
        # The slot is taken before the first await: offers sent all at once cannot overrun it.
        slot = _StartSlot(self._starting, username)
        try:
            return await self._answer(
                camera_id, target, offer_sdp, kinds, username, still_allowed, ip, slot
            )
        finally:
            slot.release()

    async def _answer(  # start()'s checked request, passed on whole
        self,
        camera_id: str,
        target: Callable[[], StreamTarget],
        offer_sdp: str,
        kinds: list[tuple[str, str]],
        username: str,
        still_allowed: Callable[[], Awaitable[bool]] | None,
        ip: str,
        slot: _StartSlot,
    ) -> LiveSession:
        # max-bundle: one transport for every section. With aiortc's default (balanced) a second
        # audio section ends up on a transport the bundle leaves unused, and hears nothing.
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=self.ice_servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        wants_audio = any(k == "audio" and d in ("recvonly", "sendrecv") for k, d in kinds)
        consumer = self._hub.stream(f"{camera_id}/main", target).consume(audio=wants_audio)
        track = PassthroughVideoTrack(consumer)
        session = LiveSession(secrets.token_urlsafe(16), username, camera_id, pc, track)
        session.still_allowed = still_allowed
        session.ip = ip
        try:
            # Transceivers in the offer's order (aiortc pairs them with m-lines by kind, first
            # free first). Codec preferences count only when set before the offer is applied.
            for kind, direction in kinds:
                self._add_transceiver(session, consumer, kind, direction)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except asyncio.CancelledError:  # the browser went away mid-answer
            await asyncio.shield(self._close(session))
            raise
        except Exception as exc:  # aiortc refused it (no common codec, bad SDP, no transport)
            try:
                await self._close(session)
            except Exception as close_exc:  # aiortc can fail to close what it failed to open
                _log.debug("closing a refused offer: %s", type(close_exc).__name__)
            raise LiveError(f"unusable offer: {type(exc).__name__}: {str(exc)[:200]}") from None
        if session.audio is not None:
            session.audio.passthrough = _sent_audio_codec(pc, session.audio)
        for transceiver in pc.getTransceivers():
            remote = transceiver.receiver.track
            if transceiver.kind == "audio" and remote is not None and session.mic is None:
                session.mic = MicPump(remote, self._talk_failed_for(session))
        # From here it counts as a session; counting it as an offer being answered too (while
        # its audit row is written) would refuse offers the caps allow.
        self.sessions[session.id] = session
        slot.release()
        await self._audit(session, "live.start")
        if self._watch is None or self._watch.done():
            self._watch = asyncio.create_task(self._recheck(), name="live-recheck")

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.stop(session.id, f"connection {pc.connectionState}")

        return session

    def _add_transceiver(
        self, session: LiveSession, consumer: Consumer, kind: str, direction: str
    ) -> None:
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
            if consumer.audio_encoding == "PCMA":
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

    async def press_talk(
        self, session_id: str, open_sink: Callable[[], Awaitable[TalkSink]]
    ) -> ActiveTalk:
        """Open the camera's backchannel and forward this viewer's microphone to it."""
        session = self.sessions.get(session_id)
        if session is None:
            raise LiveError("no such live view", 404)
        mic = session.mic
        if mic is None:
            raise LiveError("this call carries no microphone; allow it and answer again", 409)
        async with session.talk_lock:
            if mic.talk is not None:
                return mic.talk  # pressed again: already talking
            try:
                sink = await open_sink()
            except Unsupported as exc:
                raise LiveError(str(exc), 409) from None
            except DeviceUnavailable as exc:
                raise LiveError(str(exc), 503) from None
            if self.sessions.get(session_id) is not session:
                await sink.close()  # hung up while the speaker was opening
                raise LiveError("the call has ended", 404)
            try:
                talk = await mic.press(sink)
            except ValueError as exc:
                raise LiveError(str(exc), 409) from None
        await self._audit(session, "talk.start", codec=sink.codec)
        return talk

    async def release_talk(self, session_id: str, reason: str = "released") -> ActiveTalk | None:
        """Stop talking and close the backchannel (idempotent)."""
        session = self.sessions.get(session_id)
        if session is None or session.mic is None:
            return None
        async with session.talk_lock:
            talk = await session.mic.release()
        if talk is not None:
            await self._talk_ended(session, talk, reason)
        return talk

    def _talk_failed_for(self, session: LiveSession) -> Callable[[ActiveTalk], Awaitable[None]]:
        async def failed(talk: ActiveTalk) -> None:
            await self._talk_ended(session, talk, "camera error")

        return failed

    async def _close(self, session: LiveSession) -> None:
        if session.mic is not None:
            await session.mic.close()
        session.track.stop()
        if session.audio is not None:
            session.audio.stop()
        await _stop_decoders(session.pc)
        await session.pc.close()

    def follow(self, session_id: str, access: AccessFollow) -> None:
        """End the call as soon as its account loses access (sign-out, disable, role, password
        or grant change), not only at the next periodic re-check."""
        if session_id not in self.sessions:
            access.close()
            return
        task = asyncio.create_task(self._follow(session_id, access), name="live-follow")
        self._followers[session_id] = (task, access)

    async def _follow(self, session_id: str, access: AccessFollow) -> None:
        while (session := self.sessions.get(session_id)) is not None:
            if not access.stale:
                await access.wait()
            access.stale = False
            if not await self._allowed(session):
                _log.info("live view %s ended: access revoked", session_id[:8])
                await self.stop(session_id, "access revoked")
                return

    async def _allowed(self, session: LiveSession) -> bool:
        check = session.still_allowed
        try:
            return check is None or await check()
        except Exception as exc:  # fail closed: a check that cannot run ends the call
            _log.warning("live view %s: access check failed: %s", session.id[:8], exc)
            return False

    async def stop(self, session_id: str, reason: str = "hang-up") -> LiveSession | None:
        """End a call (idempotent): closes its talk, its connection, and audits both."""
        session = self.sessions.pop(session_id, None)
        follower = self._followers.pop(session_id, None)
        if follower is not None:
            task, access = follower
            access.close()
            if task is not asyncio.current_task():
                task.cancel()
        if session is None:
            return None

        async def end_talk() -> None:
            talk = await session.mic.release() if session.mic is not None else None
            if talk is not None:
                await self._talk_ended(session, talk, f"call ended: {reason}")

        # Side by side, so a camera slow to tear its speaker down cannot hold the peer
        # connection open. end_talk's task runs first and takes the talk before `_close` does.
        await asyncio.gather(end_talk(), self._close(session))
        await self._audit(session, "live.stop", frames=session.track.frames, reason=reason)
        return session

    async def _recheck(self) -> None:
        # A call outlives no revocation: signed out elsewhere, password changed, account
        # removed or the camera's grant withdrawn end it within RECHECK_S.
        while self.sessions:
            await asyncio.sleep(RECHECK_S)
            revoked = []
            for session in list(self.sessions.values()):
                if not await self._allowed(session):
                    _log.info("live view %s ended: access revoked", session.id[:8])
                    revoked.append(self.stop(session.id, "access revoked"))
            await asyncio.gather(*revoked)

    async def close(self) -> None:
        """Hang up everything (shutdown)."""
        if self._watch is not None:
            self._watch.cancel()
        await asyncio.gather(*(self.stop(sid, "shutdown") for sid in list(self.sessions)))
