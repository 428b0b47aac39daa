"""Live view over WebRTC: the camera's H.264 passed through to browsers, never re-encoded."""

from doorstep.gateway.live.viewers import LiveError, LiveService

__all__ = ["LiveError", "LiveService"]
