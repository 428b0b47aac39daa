"""Media shared by every simulated device, encoded once per resolution."""

from __future__ import annotations

from collections.abc import Iterable

from doorstep.simulator.media import VideoLoop, encode_jpeg, encode_video_loop, tone_ulaw

SUB_STREAM = (320, 180)
TONE_HZ = 440.0


class MediaLibrary:
    """Pre-encoded loops, stills and the audio tone; `prepare` blocks, so run it in a thread."""

    def __init__(self) -> None:
        self._loops: dict[tuple[int, int], VideoLoop] = {}
        self._jpegs: dict[tuple[int, int], bytes] = {}
        self.tone = b""

    def prepare(
        self,
        resolutions: Iterable[tuple[int, int]],
        fps: int = 15,
        bitrate_kbps: int | None = None,
    ) -> None:
        """Encode whatever is not encoded yet: main streams at `fps` (and `bitrate_kbps` if
        given, else the encoder's default quality), the sub stream always, at 15 fps."""
        if not self.tone:
            self.tone = tone_ulaw(TONE_HZ)
        for size in {*resolutions, SUB_STREAM}:
            if size not in self._loops:
                main = size != SUB_STREAM
                self._loops[size] = encode_video_loop(
                    *size, fps=fps if main else 15, bitrate_kbps=bitrate_kbps if main else None
                )
                self._jpegs[size] = encode_jpeg(*size)

    def loop(self, width: int, height: int) -> VideoLoop:
        """The loop for a resolution (must have been prepared)."""
        return self._loops[(width, height)]

    def jpeg(self, width: int, height: int) -> bytes:
        """The still for a resolution (must have been prepared)."""
        return self._jpegs[(width, height)]
