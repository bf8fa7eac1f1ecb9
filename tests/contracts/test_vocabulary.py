"""The closed value lists in contracts/vocabulary.py match what the schema docs promise agencies."""

from __future__ import annotations

import re

import pytest

from openbeat.contracts import vocabulary as v
from openbeat.contracts.codec import SchemaStore
from openbeat.paths import SCHEMAS_DIR

STORE = SchemaStore.load(SCHEMAS_DIR)


def _doc_values(full_name: str, field_path: str) -> tuple[str, ...]:
    """Parse a doc such as 'open, cleared_arrest, unfounded or closed' into its values."""
    fields = STORE.latest(full_name).raw["fields"]
    *parents, leaf = field_path.split(".")
    for parent in parents:
        field = next(f for f in fields if f["name"] == parent)
        items = field["type"]["items"] if field["type"].get("type") == "array" else field["type"]
        fields = items["fields"]
    doc = next(f for f in fields if f["name"] == leaf)["doc"]
    return tuple(p.strip() for p in re.split(r",\s*|\s+or\s+", doc) if p.strip())


@pytest.mark.parametrize(
    ("full_name", "field_path", "values"),
    [
        ("openbeat.raw.Incident", "status", v.INCIDENT_STATUSES),
        ("openbeat.public.PublicIncident", "status", v.INCIDENT_STATUSES),
        ("openbeat.raw.Incident", "persons.role", v.PERSON_ROLES),
        ("openbeat.raw.Incident", "persons.sex", v.PERSON_SEXES),
        ("openbeat.raw.Report", "channel", v.REPORT_CHANNELS),
        ("openbeat.public.PublicReport", "channel", v.REPORT_CHANNELS),
        ("openbeat.raw.Engagement", "kind", v.ENGAGEMENT_KINDS),
        ("openbeat.public.PublicEngagement", "kind", v.PUBLIC_ENGAGEMENT_KINDS),
        ("openbeat.raw.Engagement", "status", v.ENGAGEMENT_STATUSES),
        ("openbeat.public.PublicIncident", "location_precision", v.LOCATION_PRECISIONS),
    ],
)
def test_constants_match_schema_docs(
    full_name: str, field_path: str, values: tuple[str, ...]
) -> None:
    assert _doc_values(full_name, field_path) == values
