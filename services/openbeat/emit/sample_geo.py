"""Where sample events happen: random points that stay on their district's side of the city.

Jurisdiction files give districts as centroids, not polygons, so a district's area is taken to
be a square around its centroid, sized by the distance to the nearest other centroid.
"""

from __future__ import annotations

import math
import random

from openbeat.contracts.jurisdiction import Jurisdiction


class DistrictSampler:
    """Per-district point sampling: a box around the centroid, sized to the nearest neighbour."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        box = jurisdiction.bbox
        self.box = box
        self.ids = [d.id for d in jurisdiction.districts]
        cents = [d.centroid for d in jurisdiction.districts]
        self.centers: list[tuple[float, float, float, float]] = []
        for i, c in enumerate(cents):
            if c is None:  # no centroid: anywhere in the city box
                self.centers.append(
                    (
                        (box.min_lat + box.max_lat) / 2,
                        (box.min_lon + box.max_lon) / 2,
                        (box.max_lat - box.min_lat) / 2,
                        (box.max_lon - box.min_lon) / 2,
                    )
                )
                continue
            others = [o for j, o in enumerate(cents) if j != i and o is not None]
            near = min((math.dist(c, o) for o in others), default=0.05)
            # A square of half-width 0.35 x the gap to the nearest other centroid: even its
            # corners (0.35 * sqrt 2 < 0.5) stay nearer this centroid than any other.
            half = max(near * 0.35, 0.002)
            self.centers.append((c[0], c[1], half, half))

    def point(self, rng: random.Random, index: int) -> tuple[float, float]:
        lat, lon, dlat, dlon = self.centers[index]
        b = self.box
        la = min(max(lat + (rng.random() * 2 - 1) * dlat, b.min_lat), b.max_lat)
        lo = min(max(lon + (rng.random() * 2 - 1) * dlon, b.min_lon), b.max_lon)
        return round(la, 6), round(lo, 6)
