"""A request's area: a GeoJSON circle or simple polygon, its geodesic area, and whether the
home lies inside. Geodesy is pyproj's (WGS 84 ellipsoid), geometry is shapely's.

A circle is a GeoJSON Feature whose geometry is a Point and whose `properties.radius_m` is
the radius in metres (GeoJSON has no circle type; this is the common convention). A polygon
is a Polygon geometry, bare or in a Feature, with one ring and no holes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, Polygon

SQ_MI_M2 = 2_589_988.110336
MIN_AREA_M2 = 0.025 * SQ_MI_M2
MAX_AREA_M2 = 0.5 * SQ_MI_M2
MAX_VERTICES = 1000
CIRCLE_SIDES = 128
"""A circle is measured and tested as a geodesic polygon of this many sides."""
_GEOD = Geod(ellps="WGS84")


class AreaRefused(ValueError):
    """An area the box will not accept, with the reason."""


@dataclass(frozen=True, slots=True)
class Area:
    """A checked area: its ring (longitude, latitude), its geodesic size and its shape."""

    ring: tuple[tuple[float, float], ...]
    area_m2: float
    shape: str
    """circle or polygon."""
    centre: tuple[float, float]
    radius_m: float | None = None

    @property
    def area_sq_mi(self) -> float:
        """The area in square miles (the unit requests are limited in)."""
        return self.area_m2 / SQ_MI_M2

    def _local(self) -> Transformer:
        lon, lat = self.centre
        return Transformer.from_crs(
            "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m",
            always_xy=True,
        )  # fmt: skip

    def contains(self, latitude: float, longitude: float) -> bool:
        """Whether the point lies inside (on the boundary counts)."""
        if self.radius_m is not None:
            _, _, distance = _GEOD.inv(self.centre[0], self.centre[1], longitude, latitude)
            return bool(distance <= self.radius_m)
        local = self._local()
        shape = _projected(local, Polygon(self.ring))
        return bool(shape.covers(_projected(local, Point(longitude, latitude))))

    def distance_m(self, other: Area) -> float:
        """The shortest distance between the two areas (0 when they touch or overlap)."""
        local = self._local()
        mine = _projected(local, Polygon(self.ring))
        theirs = _projected(local, Polygon(other.ring))
        return float(mine.distance(theirs))


def _projected(local: Transformer, geometry: Any) -> Any:
    """The geometry in metres on the area's own azimuthal projection."""
    return shapely.transform(geometry, local.transform, interleaved=False)


def _position(value: Any, where: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) in (2, 3)):
        raise AreaRefused(f"{where}: a position is [longitude, latitude]")
    lon, lat = value[0], value[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise AreaRefused(f"{where}: a position is two numbers")
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise AreaRefused(f"{where}: longitude -180..180, latitude -90..90")
    return float(lon), float(lat)


def _geometry_of(value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(geometry, properties) of a bare geometry or a Feature."""
    if not isinstance(value, dict):
        raise AreaRefused("a GeoJSON object")
    if value.get("type") == "Feature":
        geometry, properties = value.get("geometry"), value.get("properties") or {}
        if not isinstance(geometry, dict) or not isinstance(properties, dict):
            raise AreaRefused("a Feature needs a geometry")
        return geometry, properties
    if value.get("type") == "FeatureCollection":
        raise AreaRefused("one area, not a collection: multi-part areas are refused")
    return value, {}


def _circle(geometry: dict[str, Any], properties: dict[str, Any]) -> Area:
    centre = _position(geometry.get("coordinates"), "coordinates")
    radius = properties.get("radius_m")
    if not isinstance(radius, int | float) or isinstance(radius, bool) or not radius > 0:
        raise AreaRefused("a circle is a Point with properties.radius_m, in metres")
    if not math.isfinite(radius) or radius > 10_000:
        raise AreaRefused("the radius is too large")
    angles = [360.0 * k / CIRCLE_SIDES for k in range(CIRCLE_SIDES)]
    lons, lats, _ = _GEOD.fwd([centre[0]] * CIRCLE_SIDES, [centre[1]] * CIRCLE_SIDES, angles,
                              [float(radius)] * CIRCLE_SIDES)  # fmt: skip
    ring = tuple(zip(lons, lats, strict=True))
    area, _ = _GEOD.polygon_area_perimeter(lons, lats)
    return Area((*ring, ring[0]), abs(area), "circle", centre, float(radius))


def _polygon(geometry: dict[str, Any]) -> Area:
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise AreaRefused("a Polygon's coordinates are a list of rings")
    if len(rings) > 1:
        raise AreaRefused("a simple polygon has no holes")
    raw = rings[0]
    if not isinstance(raw, list) or not 4 <= len(raw) <= MAX_VERTICES:
        raise AreaRefused(f"a ring has 4 to {MAX_VERTICES} positions")
    ring = tuple(_position(p, f"coordinates[0][{n}]") for n, p in enumerate(raw))
    if ring[0] != ring[-1]:
        raise AreaRefused("a ring ends where it starts")
    lons = [p[0] for p in ring]
    if max(lons) - min(lons) > 180:
        raise AreaRefused("an area across the antimeridian is refused")
    centre = (sum(p[0] for p in ring[:-1]) / (len(ring) - 1),
              sum(p[1] for p in ring[:-1]) / (len(ring) - 1))  # fmt: skip
    area = Area(ring, 0.0, "polygon", centre)
    local = _projected(area._local(), Polygon(ring))
    if not local.is_valid or not local.exterior.is_simple:
        raise AreaRefused("the polygon crosses itself: draw a simple polygon")
    measured, _ = _GEOD.polygon_area_perimeter(lons, [p[1] for p in ring])
    return Area(ring, abs(measured), "polygon", centre)


def parse_area(value: Any) -> Area:
    """The area a request names, checked for shape and size; `AreaRefused` says why not."""
    geometry, properties = _geometry_of(value)
    kind = geometry.get("type")
    if kind in ("MultiPolygon", "MultiPoint", "GeometryCollection"):
        raise AreaRefused("one area: multi-part areas are refused")
    if kind == "Point":
        area = _circle(geometry, properties)
    elif kind == "Polygon":
        area = _polygon(geometry)
    else:
        raise AreaRefused("a circle (Point with radius_m) or a simple Polygon")
    if area.area_m2 < MIN_AREA_M2:
        raise AreaRefused(f"{area.area_sq_mi:.3f} sq mi is below the 0.025 sq mi minimum")
    if area.area_m2 > MAX_AREA_M2:
        raise AreaRefused(f"{area.area_sq_mi:.3f} sq mi is above the 0.5 sq mi maximum")
    return area


def area_geojson(area: Area) -> dict[str, Any]:
    """The area as GeoJSON again (as it was asked for: a circle stays a circle)."""
    if area.radius_m is not None:
        return {"type": "Feature", "properties": {"radius_m": area.radius_m},
                "geometry": {"type": "Point", "coordinates": list(area.centre)}}  # fmt: skip
    return {"type": "Polygon", "coordinates": [[list(p) for p in area.ring]]}
