"""The home's location (the owner's settings only) and the coarse place shares carry."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from doorstep.gateway.audit import AuditLog
from doorstep.gateway.sharing.location import Place, coarse_cell
from doorstep.gateway.storage.repositories.settings import SettingsRepository

HOME_KEY = "sharing.home"
"""The exact location: read only by the owner's Settings. Nothing else reads this row."""
PLACE_KEY = "sharing.place"
"""The cell and label: what shares copy."""
MAX_LABEL = 80


@dataclass(frozen=True, slots=True)
class Home:
    """The home's location as the owner set it, and the cell shares show."""

    latitude: float
    longitude: float
    label: str
    cell: str


class InvalidLocation(ValueError):
    """Coordinates that are not a place on Earth, or a label too long."""


class HomePlaces:
    """Sets and reads the home's location; gives shares only the coarse place."""

    def __init__(self, settings: SettingsRepository, audit: AuditLog) -> None:
        self._settings = settings
        self._audit = audit

    async def home(self) -> Home | None:
        """The exact location (for the owner's Settings page only)."""
        row = await self._settings.get(HOME_KEY)
        place = await self.place()
        if row is None or place is None:
            return None
        value = row.value
        return Home(float(value["latitude"]), float(value["longitude"]), place.label, place.cell)

    async def place(self) -> Place | None:
        """The coarse place a share carries (None until the owner sets the location)."""
        row = await self._settings.get(PLACE_KEY)
        if row is None:
            return None
        return Place(str(row.value["cell"]), str(row.value.get("label", "")))

    async def set_home(
        self, latitude: float, longitude: float, label: str, by: str, ip: str
    ) -> Home:
        """Store the location and its cell (the audit row names the cell, never the point)."""
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            raise InvalidLocation("coordinates must be numbers")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidLocation("latitude -90..90, longitude -180..180")
        label = " ".join(label.split())
        if len(label) > MAX_LABEL:
            raise InvalidLocation(f"the place label is at most {MAX_LABEL} characters")
        cell = coarse_cell(latitude, longitude)
        now = datetime.now(UTC)
        await self._settings.put(HOME_KEY, {"latitude": latitude, "longitude": longitude}, now, by)
        await self._settings.put(PLACE_KEY, {"cell": cell, "label": label}, now, by)
        await self._audit.append(by, "sharing.location", "settings:home", ip=ip,
                                 detail={"cell": cell, "label": label})  # fmt: skip
        return Home(latitude, longitude, label, cell)
