"""What one simulated camera serves over RTSP, and what its backchannel received."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from doorstep.protocols.rtp import h264_payloads
from doorstep.simulator.media import VideoLoop


@dataclass
class BackchannelRecorder:
    """What clients sent on the audio backchannel (µ-law payloads, in arrival order)."""

    audio: bytearray = field(default_factory=bytearray)
    packets: int = 0
    sessions: int = 0

    def clear(self) -> None:
        """Forget everything recorded so far."""
        self.audio.clear()
        self.packets = 0


@dataclass
class RtspSettings:
    """What one simulated camera serves over RTSP."""

    username: str
    password: str
    loops: dict[str, VideoLoop]
    """Stream path ('/stream/main', …) → its video."""
    audio: bytes
    backchannel: bool
    recorder: BackchannelRecorder = field(default_factory=BackchannelRecorder)
    started_at: float = field(default_factory=time.monotonic)
    realm: str = "Doorstep Simulator"
    auth_scheme: str = "digest"
    """'digest', or 'basic': challenge with Basic (what a downgrading impostor would do)."""
    authorizations: list[str] = field(default_factory=list)
    """Every Authorization header received (the last MAX_RECORDED), so tests can check them."""
    connections: int = 0
    """Client connections accepted so far."""
    hostile: str | None = None
    """One of rtsp_hostile.RTSP_HOSTILE_MODES, or None to behave."""
    hostile_frame_bytes: int = 1024 * 1024
    hostile_frames: int = 300
    hostile_fps: int = 60
    hostile_sent: int = 0
    """Huge frames sent so far in the 'huge_frames' mode."""
    _payloads: dict[int, list[list[tuple[bytes, bool]]]] = field(default_factory=dict)

    def payloads(self, loop: VideoLoop) -> list[list[tuple[bytes, bool]]]:
        """RTP payloads of every frame of a loop, computed once and shared by all sessions."""
        key = id(loop)
        if key not in self._payloads:
            self._payloads[key] = [h264_payloads(frame.nals) for frame in loop.frames]
        return self._payloads[key]
