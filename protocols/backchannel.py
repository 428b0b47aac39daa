"""The ONVIF audio backchannel: a short-lived RTSP session that carries talk audio to a camera.

A session asks for the backchannel with `Require: www.onvif.org/ver20/backchannel`, SETUPs only
the `a=sendonly` audio track (no video: doorbells allow few sessions) and PLAYs; RTP then flows
from us to the camera on the interleaved channel. It is opened when the resident presses Talk
and torn down on release, because an open backchannel can block a doorbell's own button.
"""

from __future__ import annotations

import secrets

from doorstep.protocols.rtp import RtpStream
from doorstep.protocols.rtsp_client import RtspClient, RtspError, RtspStatusError
from doorstep.protocols.sdp import SdpMedia

BACKCHANNEL_CHANNEL = 0
AAC_FRAME_SAMPLES = 1024
SUPPORTED_CODECS = ("PCMU", "PCMA", "MPEG4-GENERIC")
_OPTION_NOT_SUPPORTED = 551


class NoBackchannel(RtspError):
    """The camera offers no audio backchannel (or none in a codec Doorstep can send)."""


def choose_track(media: list[SdpMedia]) -> SdpMedia:
    """The backchannel track to use: the first `a=sendonly` audio track in a codec we can send."""
    offered = [m for m in media if m.is_backchannel]
    if not offered:
        raise NoBackchannel("the camera offers no audio backchannel (it has no speaker)")
    for track in offered:
        if track.encoding in SUPPORTED_CODECS and track.clock_rate > 0:
            return track
    names = ", ".join(sorted({m.encoding or "unknown" for m in offered}))
    raise NoBackchannel(f"the camera's backchannel wants {names}, which Doorstep cannot send")


class RtspBackchannel:
    """An open backchannel: send encoded audio frames, then close (TEARDOWN)."""

    def __init__(self, client: RtspClient, track: SdpMedia) -> None:
        self._client = client
        self.track = track
        self.codec = "AAC" if track.encoding == "MPEG4-GENERIC" else track.encoding
        self.sample_rate = track.clock_rate
        self.channels = 1
        self.fmtp = dict(track.fmtp)
        self._rtp = RtpStream(
            track.payload_type, secrets.randbits(32), secrets.randbits(16), secrets.randbits(32)
        )
        self.packets = 0
        self.closed = False

    @classmethod
    async def open(
        cls, url: str, username: str | None, password: str | None, *, allow_basic: bool = False
    ) -> RtspBackchannel:
        """DESCRIBE with the backchannel requirement, SETUP its track alone, PLAY.

        `allow_basic`: answer a Basic challenge over plain RTSP (the camera's `rtsp_allow_basic`).
        """
        client = RtspClient(url, username, password, allow_basic=allow_basic)
        client.keep_media = False
        await client.connect()
        try:
            try:
                media = await client.describe(backchannel=True)
            except RtspStatusError as exc:
                if exc.status == _OPTION_NOT_SUPPORTED:
                    raise NoBackchannel(
                        "the camera offers no audio backchannel (it has no speaker)"
                    ) from None
                raise
            track = choose_track(media)
            await client.setup(track, BACKCHANNEL_CHANNEL, backchannel=True)
            await client.play(backchannel=True)
        except BaseException:
            await client.close()
            raise
        return cls(client, track)

    async def send(self, payload: bytes) -> None:
        """Send one encoded frame (G.711: one byte per sample; AAC: one RFC 3640 access unit)."""
        if self.closed:
            raise RtspError("the backchannel is closed")
        self._client.send(BACKCHANNEL_CHANNEL, self._rtp.packet(payload, marker=self.packets == 0))
        self.packets += 1
        step = AAC_FRAME_SAMPLES if self.codec == "AAC" else len(payload)
        self._rtp.timestamp = (self._rtp.timestamp + step) & 0xFFFFFFFF

    async def close(self) -> None:
        """TEARDOWN and close the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            await self._client.close()
