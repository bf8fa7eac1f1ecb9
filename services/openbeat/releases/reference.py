"""Rows of the reference tables `offense-codes` and `districts`: pure functions of the shipped
offense table and the jurisdiction file, so analysts can label codes and districts by a join."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable


def offense_code_rows(table: OffenseTable) -> Iterator[dict[str, Any]]:
    for offense in table:
        yield {
            "code": offense.code,
            "name": offense.name,
            "group": offense.group,
            "crime_against": offense.crime_against,
            "category": offense.category,
            "sensitive": offense.sensitive,
            "retired": offense.retired,
        }


def _boundary(district: Any) -> str | None:
    """The district's boundary as GeoJSON text, when the jurisdiction file has one."""
    value = getattr(district, "boundary", None)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def district_rows(jurisdiction: Jurisdiction) -> Iterator[dict[str, Any]]:
    for district in jurisdiction.districts:
        centroid = district.centroid
        yield {
            "id": district.id,
            "name": district.name,
            "centroid_latitude": centroid[0] if centroid else None,
            "centroid_longitude": centroid[1] if centroid else None,
            "boundary": _boundary(district),
        }
