"""Privacy masks: rectangles of the picture blacked out or blurred on every frame of a copy.

A mask is given in fractions of the frame (0..1), as the owner drew it on the poster, so it
fits any resolution. Applied to a decoded YUV 4:2:0 picture as a NumPy array; blocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

MaskStyle = Literal["black", "blur"]
BLACK_LUMA, NEUTRAL_CHROMA = 16, 128  # video-range black
BLUR_BLOCKS = 12
"""A blurred mask is averaged in blocks of 1/12 of the frame's height (90 px at 1080p): a face
or a number plate in it cannot be read, and no detail survives to be sharpened back."""
Plane = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Mask:
    """One rectangle, in fractions of the frame's width and height."""

    x: float
    y: float
    w: float
    h: float
    style: MaskStyle = "black"

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels, widened to even numbers so chroma covers it too."""
        x0 = max(0, int(self.x * width) // 2 * 2)
        y0 = max(0, int(self.y * height) // 2 * 2)
        x1 = min(width, -(-round((self.x + self.w) * width) // 2) * 2)
        y1 = min(height, -(-round((self.y + self.h) * height) // 2) * 2)
        return x0, y0, max(x0, x1), max(y0, y1)


def planes(picture: Plane, width: int, height: int) -> tuple[Plane, Plane, Plane]:
    """Views of the Y, U and V planes of a `yuv420p` array as PyAV's `to_ndarray` lays it out."""
    quarter = height // 4
    y = picture[:height]
    u = picture[height : height + quarter].reshape(height // 2, width // 2)
    v = picture[height + quarter : height + 2 * quarter].reshape(height // 2, width // 2)
    return y, u, v


def _pixelate(plane: Plane, block: int) -> None:
    """Replace each block of a plane region by its mean (in place)."""
    rows, cols = plane.shape
    for top in range(0, rows, block):
        for left in range(0, cols, block):
            cell = plane[top : top + block, left : left + block]
            cell[...] = int(cell.mean())


def apply_masks(picture: Plane, width: int, height: int, masks: tuple[Mask, ...]) -> None:
    """Black out or blur every mask's rectangle of a `yuv420p` picture, in place."""
    y, u, v = planes(picture, width, height)
    block = max(8, height // BLUR_BLOCKS // 2 * 2)
    for mask in masks:
        x0, y0, x1, y1 = mask.pixels(width, height)
        if x1 <= x0 or y1 <= y0:
            continue
        luma = y[y0:y1, x0:x1]
        chroma = (u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2], v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2])
        if mask.style == "black":
            luma[...] = BLACK_LUMA
            for plane in chroma:
                plane[...] = NEUTRAL_CHROMA
        else:
            _pixelate(luma, block)
            for plane in chroma:
                _pixelate(plane, block // 2)
