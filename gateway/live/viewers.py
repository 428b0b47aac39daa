"""Live-view sessions: WHEP-style offer/answer over HTTP, one aiortc peer connection each; the
service that admits, tracks, times out, re-checks and ends them, auditing each call.

A call may be prepared for a ring (connected, media paused, the camera's stream kept warm) and
answered later; it answers the ring when it starts. The offer's checks are in offer.py, the
caps in caps.py, the peer connection's tracks and teardown in peer.py, the rings' side of a
call in answering.py, the warm stream in prepared.py and the access re-checks in access.py."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from doorstep.gateway.live.access import AccessFollow, AccessWatch
from doorstep.gateway.live.answering import AlreadyInCall, RecentlyEnded, ring_for, same_page_call
from doorstep.gateway.live.caps import MAX_SESSIONS, MAX_SESSIONS_PER_USER, CallCaps, StartSlot
from doorstep.gateway.live.ice import host_addresses
from doorstep.gateway.live.offer import MAX_CANDIDATE_LINES, MAX_SDP_BYTES, LiveError, offer_media
from doorstep.gateway.live.peer import LiveSession, add_transceiver, close_peer, sent_audio_codec
from doorstep.gateway.live.prepared import WarmHold
from doorstep.gateway.live.talk import ActiveTalk, MicPump
from doorstep.gateway.live.track import PassthroughVideoTrack
from doorstep.gateway.media.hub import StreamHub
from doorstep.gateway.media.upstream import StreamTarget
from doorstep.gateway.ringing import Ring, RingTracker
from doorstep.sdk import DeviceUnavailable, TalkSink, Unsupported

__all__ = [
    "MAX_CANDIDATE_LINES",
    "MAX_SDP_BYTES",
    "MAX_SESSIONS",
    "MAX_SESSIONS_PER_USER",
    "AlreadyInCall",
    "LiveAudit",
    "LiveError",
    "LiveService",
    "LiveSession",
]

_log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15.0
"""A call not connected this long after its answer is ended: its candidates reach nowhere (no
route, a firewall, no TURN), and it would hold the camera's stream open for minutes with no
frame sent. Host and STUN pairs connect within a second or two; 15 s leaves a phone on a slow
mobile link or a TURN relay room to finish."""

LiveAudit = Callable[[str, str, str, str, dict[str, Any]], Awaitable[None]]
"""Records a call's event in the audit log: (user, action, target, ip, detail)."""


class LiveService:
    """Creates, tracks and closes live-view peer connections, and audits each call's start,
    talk and end, however it ends (hang-up, lost connection, revoked access, shutdown)."""

    def __init__(
        self,
        hub: StreamHub,
        ice_servers: list[RTCIceServer],
        audit: LiveAudit | None = None,
        host_addresses: list[str] | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        rings: RingTracker | None = None,
        caps: CallCaps | None = None,
    ) -> None:
        self._hub = hub
        self.ice_servers = list(ice_servers)  # empty: no public STUN is contacted
        self.host_addresses = list(host_addresses or [])
        """The only local addresses offered as ICE host candidates (empty: aioice's choice)."""
        self.connect_timeout_s = connect_timeout_s
        """How long a new call may take to connect before it is ended (and audited so)."""
        self._audit_hook = audit
        self.sessions: dict[str, LiveSession] = {}
        self.ended = RecentlyEnded()
        self.caps = caps or CallCaps()
        """Offers being answered count toward them already, prepared calls too."""
        self.rings = rings
        self._answering: set[tuple[str, str]] = set()
        """(sign-in, camera) pairs whose offer for a ring is being answered: a second is refused."""
        self._access = AccessWatch(self.sessions, self.stop)
        self._ring_stops: set[asyncio.Task[LiveSession | None]] = set()
        if rings is not None:
            rings.listen(self._ring_ended)

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
        *,
        auth_session: str = "",
        ring_id: str | None = None,
        prepare: bool = False,
        stream: str = "main",
    ) -> LiveSession:
        """Answer a browser's offer with the camera's video; the answer carries our candidates.

        On a ringing camera the call answers the ring (`ring_id` names it; else the camera's
        current one). `prepare`: connect, but send nothing until `answer()` (a ring is needed).
        `stream`: which of the camera's streams `target` opens (a call on the main stream shares
        the recorder's session).
        AlreadyInCall when this sign-in (`auth_session`) is in that call or prepared it.
        """
        kinds = offer_media(offer_sdp)
        ring = ring_for(self.rings, camera_id, ring_id, prepare)
        page = (auth_session, camera_id)
        if ring is not None and auth_session:
            if page in self._answering:
                raise AlreadyInCall(None)
            existing = same_page_call(self.sessions.values(), auth_session, camera_id, ring)
            if existing is not None:
                if not existing.prepared and not prepare:
                    self._answer_ring(existing, ring)  # the page answered from its open call
                raise AlreadyInCall(existing)
        # Caps and slot are taken before the first await: offers sent all at once cannot
        # overrun them, prepared calls included.
        slot = self.caps.take(self.sessions.values(), username, camera_id)
        answering = ring is not None and bool(auth_session)
        if answering:
            self._answering.add(page)
        try:
            session = await self._answer(
                camera_id, target, offer_sdp, kinds, username, still_allowed, ip, slot, prepare,
                stream,
            )  # fmt: skip
        finally:
            slot.release()
            if answering:
                self._answering.discard(page)
        session.auth_session = auth_session
        if prepare and ring is not None:
            session.ring_id = ring.id
            if ring.ended is not None:  # it ended while the offer was answered
                await self.stop(session.id, "ring ended")
                raise LiveError("the camera is not ringing (the ring has ended)", 409)
            session.prepared_for = asyncio.create_task(
                self._unanswered(session, ring), name="live-prepared"
            )
            await self._audit(session, "live.prepared", ring=ring.id[:8])
        else:
            if ring is not None:
                self._answer_ring(session, ring)
            await self._audit(session, "live.start", **self._ring_detail(session))
        return session

    def _answer_ring(self, session: LiveSession, ring: Ring) -> None:
        if self.rings is not None and self.rings.answer(ring.id, session.username, session.id):
            session.ring_id = ring.id

    def _ring_detail(self, session: LiveSession) -> dict[str, Any]:
        return {} if session.ring_id is None else {"ring": session.ring_id[:8]}

    async def answer(self, session_id: str, username: str) -> tuple[LiveSession, bool]:
        """Start a prepared call's media now, from the camera's latest cached keyframe; it
        answers its ring. (session, True), or (session, False) when it was answered already."""
        session = self.sessions.get(session_id)
        if session is None or session.username != username:
            raise LiveError("no such live view", 404)
        hold = session.hold
        if hold is None:
            return session, False
        session.hold = None
        consumer = hold.answer()
        session.track.resume(consumer)
        if session.audio is not None:
            session.audio.resume(consumer)
        if session.prepared_for is not None:
            session.prepared_for.cancel()
            session.prepared_for = None
        session.started_at = datetime.now(UTC)
        ring = self.rings.get(session.ring_id) if self.rings and session.ring_id else None
        if ring is not None:
            self._answer_ring(session, ring)
        await self._audit(session, "live.start", prepared=True, **self._ring_detail(session))
        return session, True

    async def _unanswered(self, session: LiveSession, ring: Ring) -> None:
        # Its ring's end closes it too; this covers a ring someone else answered, which lasts
        # as long as their call.
        if self.rings is None:  # a prepared call has a ring, so a tracker
            return
        await self.rings.clock.sleep(self.rings.ring_s)
        if self.sessions.get(session.id) is session and session.prepared:
            session.prepared_for = None  # ending now; not a task to cancel
            await self.stop(session.id, "not answered")

    def _ring_ended(self, ring: Ring) -> None:
        for session in list(self.sessions.values()):
            if session.ring_id == ring.id and session.prepared:
                task = asyncio.create_task(self.stop(session.id, "ring ended"), name="live-ring")
                self._ring_stops.add(task)
                task.add_done_callback(self._ring_stops.discard)

    async def _answer(  # start()'s checked request, passed on whole
        self,
        camera_id: str,
        target: Callable[[], StreamTarget],
        offer_sdp: str,
        kinds: list[tuple[str, str]],
        username: str,
        still_allowed: Callable[[], Awaitable[bool]] | None,
        ip: str,
        slot: StartSlot,
        prepare: bool,
        stream_name: str,
    ) -> LiveSession:
        # max-bundle: one transport for every section. With aiortc's default (balanced) a second
        # audio section ends up on a transport the bundle leaves unused, and hears nothing.
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=self.ice_servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        wants_audio = any(k == "audio" and d in ("recvonly", "sendrecv") for k, d in kinds)
        stream = self._hub.stream(f"{camera_id}/{stream_name}", target)
        # Prepared: the tracks are paused and get their consumer when the call is answered.
        hold = WarmHold(stream, wants_audio) if prepare else None
        consumer = None if prepare else stream.consume(audio=wants_audio)
        track = PassthroughVideoTrack(consumer)
        session = LiveSession(secrets.token_urlsafe(16), username, camera_id, pc, track)
        session.still_allowed = still_allowed
        session.ip = ip
        session.hold = hold
        try:
            # Transceivers in the offer's order (aiortc pairs them with m-lines by kind, first
            # free first). Codec preferences count only when set before the offer is applied.
            for kind, direction in kinds:
                add_transceiver(session, consumer, stream.audio_encoding, kind, direction)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            with host_addresses(self.host_addresses):  # the candidates are gathered in here
                await pc.setLocalDescription(await pc.createAnswer())
        except asyncio.CancelledError:  # the browser went away mid-answer
            await asyncio.shield(close_peer(session))
            raise
        except Exception as exc:  # aiortc refused it (no common codec, bad SDP, no transport)
            try:
                await close_peer(session)
            except Exception as close_exc:  # aiortc can fail to close what it failed to open
                _log.debug("closing a refused offer: %s", type(close_exc).__name__)
            raise LiveError(f"unusable offer: {type(exc).__name__}: {str(exc)[:200]}") from None
        if session.audio is not None:
            session.audio.passthrough = sent_audio_codec(pc, session.audio)
        for transceiver in pc.getTransceivers():
            remote = transceiver.receiver.track
            if transceiver.kind == "audio" and remote is not None and session.mic is None:
                session.mic = MicPump(remote, self._talk_failed_for(session))
        # From here it counts as a session; counting it as an offer being answered too (while
        # its audit row is written) would refuse offers the caps allow.
        self.sessions[session.id] = session
        slot.release()
        self._access.watching()

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "connected":
                session.connected.set()
            if pc.connectionState in ("failed", "closed"):
                await self.stop(session.id, f"connection {pc.connectionState}")

        session.deadline = asyncio.create_task(self._connect_or_end(session), name="live-connect")
        return session

    async def _connect_or_end(self, session: LiveSession) -> None:
        if session.pc.connectionState == "connected":  # before the handler was in place
            session.connected.set()
        try:
            await asyncio.wait_for(session.connected.wait(), self.connect_timeout_s)
        except TimeoutError:
            _log.info(
                "live view %s ended: not connected within %g s (no reachable candidate)",
                session.id[:8],
                self.connect_timeout_s,
            )
            await self.stop(session.id, f"not connected within {self.connect_timeout_s:g} s")

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

    def follow(self, session_id: str, access: AccessFollow) -> None:
        """End the call as soon as its account loses access (sign-out, disable, role, password
        or grant change), not only at the next periodic re-check."""
        self._access.follow(session_id, access)

    async def stop(self, session_id: str, reason: str = "hang-up") -> LiveSession | None:
        """End a call (idempotent): closes its talk, its connection, and audits both."""
        session = self.sessions.pop(session_id, None)
        for timer in (session.deadline, session.prepared_for) if session is not None else ():
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()
        self._access.unfollow(session_id)
        if session is None:
            return None
        self.ended.add(session.id, session.username)
        if self.rings is not None:
            self.rings.call_ended(session.id)  # the ring it answered ends with it
        prepared = session.prepared

        async def end_talk() -> None:
            talk = await session.mic.release() if session.mic is not None else None
            if talk is not None:
                await self._talk_ended(session, talk, f"call ended: {reason}")

        # Side by side, so a camera slow to tear its speaker down cannot hold the peer
        # connection open. end_talk's task runs first and takes the talk before `_close` does.
        await asyncio.gather(end_talk(), close_peer(session))
        detail: dict[str, Any] = {"frames": session.track.frames, "reason": reason}
        if prepared:
            detail["prepared"] = True  # never answered
        await self._audit(session, "live.stop", **detail)
        return session

    async def close(self) -> None:
        """Hang up everything (shutdown)."""
        self._access.close()
        await asyncio.gather(*(self.stop(sid, "shutdown") for sid in list(self.sessions)))
        await asyncio.gather(*self._ring_stops, return_exceptions=True)
