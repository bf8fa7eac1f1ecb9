"""Coordinate generalization: snap a point to the centre of its grid cell.

The grid is a fixed equirectangular grid anchored at (0, 0): latitude bands of `cell_m` meters,
and within each band longitude steps of `cell_m` meters measured at the band's central latitude.
Every point of a cell maps to the same centre, the grid does not depend on the data (so a
centre reveals nothing about where in the cell the points were), and the verifier can check a
published point with `is_cell_centre` alone.
"""

from __future__ import annotations

import math

# Meters per degree of latitude (mean); the exact figure only scales the cells slightly.
METERS_PER_DEGREE = 111_320.0
# Centres are rounded to 1e-6 degrees (about 0.1 m): short CSV values, and far too fine to move
# a centre out of its cell, so snapping a centre again gives the same centre.
DECIMALS = 6
# Keeps the longitude step finite in the polar bands (no city is there, but inputs can be).
MIN_COS = 1e-6


def snap(lat: float, lon: float, cell_m: float) -> tuple[float, float]:
    """The centre (lat, lon) of the grid cell of size `cell_m` meters holding (lat, lon)."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError("coordinates must be finite")
    dlat = cell_m / METERS_PER_DEGREE
    band = math.floor(lat / dlat)
    centre_lat = (band + 0.5) * dlat
    if centre_lat > 90.0:
        centre_lat -= dlat
    elif centre_lat < -90.0:
        centre_lat += dlat
    dlon = cell_m / (METERS_PER_DEGREE * max(math.cos(math.radians(centre_lat)), MIN_COS))
    column = math.floor(lon / dlon)
    centre_lon = (column + 0.5) * dlon
    return round(centre_lat, DECIMALS), round(centre_lon, DECIMALS)


def is_cell_centre(lat: float, lon: float, cell_m: float) -> bool:
    """True when (lat, lon) is exactly what `snap` publishes for some point."""
    try:
        return snap(lat, lon, cell_m) == (lat, lon)
    except ValueError:
        return False
