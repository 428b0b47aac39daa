"""The home's place in a share: one fixed coarse cell (H3, resolution 8: about 0.7 km²).

The same cell for every share of the household: snapped, never randomised per share, so
averaging many shares reveals nothing finer than the cell. The exact coordinates stay in the
owner's settings; only the cell and the owner's label are ever copied into a share.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3

CELL_RESOLUTION = 8


@dataclass(frozen=True, slots=True)
class Place:
    """What a share says of where it happened: a cell id, its outline and a label."""

    cell: str
    label: str

    @property
    def outline(self) -> list[tuple[float, float]]:
        """The cell's corners (latitude, longitude), rounded to 4 decimals (~10 m)."""
        return [(round(a, 4), round(b, 4)) for a, b in h3.cell_to_boundary(self.cell)]

    @property
    def area_km2(self) -> float:
        """The cell's area."""
        return round(float(h3.cell_area(self.cell, "km^2")), 2)


def coarse_cell(latitude: float, longitude: float) -> str:
    """The H3 cell the home lies in (the same one every time)."""
    return str(h3.latlng_to_cell(latitude, longitude, CELL_RESOLUTION))


def valid_cell(cell: str) -> bool:
    """Whether `cell` is an H3 cell of the share resolution."""
    return bool(h3.is_valid_cell(cell)) and h3.get_resolution(cell) == CELL_RESOLUTION
