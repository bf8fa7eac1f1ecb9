"""Generated incident rows for benchmarks and tests: any number, streamed, reproducible by seed.

`build_release(store, "incidents", synthetic_incident_rows(1_000_000), cutoff, context)` is the
release benchmark: the generator yields one row at a time, so only the builder's own batches are
ever in memory.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction

_CATEGORIES = (
    ("theft", "23H"),
    ("burglary", "220"),
    ("assault", "13B"),
    ("vandalism", "290"),
    ("motor vehicle theft", "240"),
    ("robbery", "120"),
)
_STREETS = ("W MAIN ST", "N OAK AVE", "E RIVER RD", "S ELM ST", "W 5TH AVE", "N PRAIRIE BLVD")
_STATUSES = ("open", "closed", "cleared_arrest", "cleared_exceptional")
# A quarter-kilometre grid in degrees of latitude; rows carry cell centres, as published.
_CELL = 0.00225


def synthetic_incident_rows(
    n: int, jurisdiction: Jurisdiction, seed: int = 1, start: date = date(2026, 1, 1)
) -> Iterator[dict[str, Any]]:
    """`n` incident rows shaped like the `incidents` dataset, inside the jurisdiction's box."""
    rnd = random.Random(seed)
    box = jurisdiction.bbox
    districts = sorted(jurisdiction.district_ids)
    for i in range(n):
        category, code = _CATEGORIES[rnd.randrange(len(_CATEGORIES))]
        day = start + timedelta(days=rnd.randrange(365))
        hour = datetime(day.year, day.month, day.day, rnd.randrange(24), tzinfo=UTC)
        lat = box.min_lat + (rnd.randrange(int((box.max_lat - box.min_lat) / _CELL)) + 0.5) * _CELL
        lon = box.min_lon + (rnd.randrange(int((box.max_lon - box.min_lon) / _CELL)) + 0.5) * _CELL
        yield {
            "public_id": hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:32],
            "category": category,
            "offense_code": code,
            "offense_count": 1,
            "offense_codes": [],
            "reported_date": day,
            "occurred_date": day,
            "occurred_hour": hour,
            "block": f"{rnd.randrange(1, 99):03d}XX {_STREETS[rnd.randrange(len(_STREETS))]}",
            "district": districts[rnd.randrange(len(districts))],
            "latitude": round(lat, 6),
            "longitude": round(lon, 6),
            "location_precision": "block",
            "status": _STATUSES[rnd.randrange(len(_STATUSES))],
        }
