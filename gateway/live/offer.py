"""A browser's offer, admitted before aiortc reads it: size and shape checked, with a reason
for each refusal (the caps each call counts toward are in caps.py)."""

from __future__ import annotations

from aiortc.sdp import SessionDescription

MAX_SDP_BYTES = 64 * 1024
MAX_CANDIDATE_LINES = 64


class LiveError(Exception):
    """A live-view request refused, with a reason for the user; `status` suggests the HTTP code."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def offer_media(offer_sdp: str) -> list[tuple[str, str]]:
    """The offer's (kind, direction) per audio/video section, in order; LiveError if it is too
    big, unreadable, or not a live view's media."""
    if len(offer_sdp.encode()) > MAX_SDP_BYTES:
        raise LiveError("the offer is too large", 413)
    if sum(line.startswith("a=candidate") for line in offer_sdp.splitlines()) > MAX_CANDIDATE_LINES:
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
    return kinds
