"""District boundaries of a jurisdiction: which district a point lies in.

A jurisdiction may ship its districts' polygons as GeoJSON beside its TOML file
(`infra/jurisdictions/<name>.geojson`: a FeatureCollection of Polygon or MultiPolygon features,
each with a `district` property naming a district id of the TOML file). Imports use it when a
row's district is empty or unknown but its point is known. The geometry is shapely's (GEOS), with
an STRtree index, not hand-written point-in-polygon: borders, holes and multipolygons are its job.
A point on a shared border belongs to the district with the smallest id, so the answer never
depends on the order of the features.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

logger = logging.getLogger(__name__)


class BoundariesError(ValueError):
    """A boundaries file that cannot be used; the message names the file and the feature."""


@dataclass(frozen=True)
class DistrictBoundaries:
    """Polygons by district id, indexed for point look-ups."""

    source: Path
    ids: tuple[str, ...]
    tree: STRtree
    geometries: tuple[Any, ...]

    def locate(self, lat: float, lon: float) -> str | None:
        """The district holding the point (GeoJSON order: lon, lat), or None outside them all."""
        point = Point(lon, lat)
        hits = [
            self.ids[i]
            for i in self.tree.query(point)
            if self.geometries[i].covers(point)  # covers: a point on the border counts
        ]
        return min(hits) if hits else None


def load_boundaries(path: Path, district_ids: frozenset[str]) -> DistrictBoundaries:
    """Read and check a boundaries file against the jurisdiction's district ids."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoundariesError(f"{path}: not a readable GeoJSON file: {exc}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if data.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise BoundariesError(f"{path}: expected a GeoJSON FeatureCollection")
    ids: list[str] = []
    geometries: list[Any] = []
    for number, feature in enumerate(features):
        district = (feature.get("properties") or {}).get("district")
        if district not in district_ids:
            raise BoundariesError(
                f"{path}: feature {number} has district {district!r}, not a district id of the "
                f"jurisdiction ({', '.join(sorted(district_ids))})"
            )
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
            raise BoundariesError(f"{path}: feature {number}: bad geometry: {exc}") from exc
        if geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
            raise BoundariesError(
                f"{path}: feature {number} ({district}): expected a valid Polygon or "
                f"MultiPolygon, got {geometry.geom_type}"
                + ("" if geometry.is_valid else f" ({shapely.is_valid_reason(geometry)})")
            )
        ids.append(district)
        geometries.append(geometry)
    logger.debug("loaded %d district boundaries from %s", len(ids), path)
    return DistrictBoundaries(path, tuple(ids), STRtree(geometries), tuple(geometries))
