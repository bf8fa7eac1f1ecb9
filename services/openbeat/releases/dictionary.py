"""The data dictionary: every published dataset's columns, how the datasets join, and the special
values that are not data. One place in code, read by the release (`catalog/dictionary.json`)
and by anything else that documents the datasets (the residents' site imports it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openbeat.releases.datasets import DATASETS, DatasetSpec
from openbeat.releases.documents import arrow_type_name
from openbeat.releases.tabular import (
    CSV_LIST_FORMAT,
    CSV_LOCAL_TIMESTAMP_FORMAT,
    CSV_TIMESTAMP_FORMAT,
)

DICTIONARY_KEY = "catalog/dictionary.json"
DICTIONARY_VERSION = 1


@dataclass(frozen=True)
class Join:
    """`dataset.column` holds values of `to_dataset.to_column` (except the special values)."""

    dataset: str
    column: str
    to_dataset: str
    to_column: str


@dataclass(frozen=True)
class SpecialValue:
    value: str
    columns: tuple[str, ...]  # "dataset.column"
    meaning: str


JOINS: tuple[Join, ...] = (
    Join("incidents", "offense_code", "offense-codes", "code"),
    Join("incidents", "district", "districts", "id"),
    Join("community-reports", "district", "districts", "id"),
    Join("engagement-events", "district", "districts", "id"),
    Join("incident-counts", "district", "districts", "id"),
    Join("incident-counts", "category", "offense-codes", "category"),
    Join("incident-counts-weekly", "district", "districts", "id"),
    Join("incident-counts-weekly", "category", "offense-codes", "category"),
    Join("incident-counts-monthly", "district", "districts", "id"),
    Join("incident-counts-monthly", "category", "offense-codes", "category"),
    Join("engagement-summary", "district", "districts", "id"),
)

SPECIAL_VALUES: tuple[SpecialValue, ...] = (
    SpecialValue(
        "(citywide)",
        (
            "incident-counts.district",
            "incident-counts-weekly.district",
            "incident-counts-monthly.district",
            "engagement-summary.district",
        ),
        "A row about the whole city, not a district: it never joins districts.id.",
    ),
    SpecialValue(
        "(withheld)",
        ("incident-counts.category",),
        "On the (citywide) row of a day: incidents withheld from the row-level data "
        "(juvenile-involved, confidential) whose count in their own cell would have been 1 to "
        "k-1, so that no cell minus its public rows ever reveals a few withheld incidents. "
        "Every sealed day has this row; its count is empty (suppressed) when below k, 0 "
        "included, so neither its presence nor its flag says whether any were moved. Not "
        "summed into the weekly and monthly counts.",
    ),
    SpecialValue(
        "(all)",
        ("incident-counts.category",),
        "A district's total over all categories (published only when totals are enabled).",
    ),
)

# How the aggregates relate to the row-level data over time (issue 9): the rules a reader needs
# to subtract correctly, and what they are for.
AGGREGATE_RULES = {
    "sealed periods": (
        "A day (incident counts) or ISO week (engagement summary) is published once it is over "
        "plus the policy's settle_days, and its figures are sealed: every later release "
        "carries them unchanged. Weekly and monthly incident counts are sums of sealed days and "
        "appear once their last day is sealed. Comparing two releases therefore shows nothing "
        "about withheld incidents or survey answers."
    ),
    "late records": (
        "An incident reported more than settle_days after the day it occurred "
        "(reported_date > occurred_date + settle_days) is published as a row but is not "
        "counted in incident-counts: its day was sealed before it was reported. Withheld "
        "incidents and survey responses that arrive after their period was sealed are not "
        "counted either. A day's count minus its non-late rows is 0 or at least k."
    ),
    "removed rows": (
        "A row that leaves the incidents or engagement-events dataset (withheld, unfounded, "
        "made private, withdrawn by the agency) leaves through one path that never says why "
        "(changes.json lists its id as removed); sealed counts that included it keep it."
    ),
    "publication delay": (
        "Row-level incidents are published publication_delay_days after their reported_date "
        "(the policy in each manifest). Alerts for younger incidents carry only the district, "
        "category and hour."
    ),
}

CSV_CONVENTIONS = {
    "encoding": "UTF-8, no BOM; RFC 4180 quoting; CRLF line ends; a header row",
    "null": "an empty cell",
    "timestamps (UTC)": f"{CSV_TIMESTAMP_FORMAT} (the column type is a timestamp with time zone)",
    "timestamps (local)": (
        f"{CSV_LOCAL_TIMESTAMP_FORMAT}, on the jurisdiction's wall clock (no zone suffix)"
    ),
    "dates": "%Y-%m-%d (local dates)",
    "booleans": "true / false",
    "lists": CSV_LIST_FORMAT + ', e.g. ["PTA", "Library"]; [] when empty',
    "suppressed": "a value resting on fewer than k records is empty, with suppressed = true",
}


def _dataset_entry(spec: DatasetSpec) -> dict[str, Any]:
    joins = {j.column: f"{j.to_dataset}.{j.to_column}" for j in JOINS if j.dataset == spec.name}
    specials = {
        column.split(".", 1)[1]: [v.value for v in SPECIAL_VALUES if column in v.columns]
        for v in SPECIAL_VALUES
        for column in v.columns
        if column.startswith(spec.name + ".")
    }
    columns = []
    for c in spec.columns:
        entry: dict[str, Any] = {
            "name": c.name,
            "type": arrow_type_name(c.type),
            "nullable": c.nullable,
            "description": c.description,
        }
        if c.name in joins:
            entry["joins"] = joins[c.name]
        if c.name in specials:
            entry["special_values"] = specials[c.name]
        if c.local_of:
            entry["local_of"] = c.local_of
        columns.append(entry)
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "primary_key": list(spec.primary_key),
        "time_column": spec.time_column,
        "columns": columns,
    }


def data_dictionary(timezone: str, datasets: Iterable[str] | None = None) -> dict[str, Any]:
    """The dictionary of `datasets` (default: all), descriptions localized to `timezone`."""
    names = sorted(DATASETS) if datasets is None else sorted(set(datasets))
    specs = [DATASETS[n].localized(timezone) for n in names]
    return {
        "dictionary_version": DICTIONARY_VERSION,
        "timezone": timezone,
        "datasets": [_dataset_entry(s) for s in specs],
        "joins": [
            {"from": f"{j.dataset}.{j.column}", "to": f"{j.to_dataset}.{j.to_column}"}
            for j in JOINS
            if j.dataset in names and j.to_dataset in names
        ],
        "special_values": [
            {"value": v.value, "columns": list(v.columns), "meaning": v.meaning}
            for v in SPECIAL_VALUES
        ],
        "aggregate_rules": dict(AGGREGATE_RULES),
        "csv": dict(CSV_CONVENTIONS),
    }
