"""Grid snapping: every point of a cell maps to one centre, near the point but never on it."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from openbeat.privacy.grid import METERS_PER_DEGREE, is_cell_centre, snap

lats = st.floats(min_value=-80, max_value=80, allow_nan=False)
lons = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)
cells = st.sampled_from([50.0, 100.0, 250.0, 500.0, 1000.0])


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dy = (a[0] - b[0]) * METERS_PER_DEGREE
    dx = (a[1] - b[1]) * METERS_PER_DEGREE * math.cos(mean_lat)
    return math.hypot(dx, dy)


@given(lats, lons, cells)
def test_centre_is_a_centre_and_within_half_a_diagonal(lat: float, lon: float, cell: float) -> None:
    centre = snap(lat, lon, cell)
    assert is_cell_centre(*centre, cell)
    assert snap(*centre, cell) == centre
    # Half the diagonal, plus slack for the band's longitude step being set at its centre.
    assert distance_m((lat, lon), centre) <= cell * math.sqrt(2) / 2 * 1.01 + 0.2


@given(lats, lons, cells, st.floats(-0.49, 0.49), st.floats(-0.49, 0.49))
def test_every_point_of_a_cell_maps_to_the_same_centre(
    lat: float, lon: float, cell: float, fy: float, fx: float
) -> None:
    centre_lat, centre_lon = snap(lat, lon, cell)
    dlat = cell / METERS_PER_DEGREE
    dlon = cell / (METERS_PER_DEGREE * math.cos(math.radians(centre_lat)))
    other = (centre_lat + fy * dlat, centre_lon + fx * dlon)
    assert snap(*other, cell) == (centre_lat, centre_lon)


def test_real_points_are_moved_and_cells_differ_by_size() -> None:
    point = (41.8781136, -87.6297982)  # Chicago City Hall
    centre = snap(*point, 250)
    assert centre != point
    assert not is_cell_centre(*point, 250)
    assert snap(*point, 500) != centre
    assert distance_m(point, centre) > 0.5


def test_non_finite_points_are_not_centres() -> None:
    assert not is_cell_centre(float("nan"), 0.0, 250)
