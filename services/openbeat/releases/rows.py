"""From public-topic records to dataset rows: latest revision per public id, withdrawn dropped.

Pure functions: records in (plain dicts shaped like `schemas/public/*.avsc`), rows out (plain
dicts with exactly the dataset's columns). The aggregate datasets get their rows elsewhere
(`openbeat.aggregate`); only the three row-level datasets are derived here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from openbeat.privacy.policy import Policy
from openbeat.releases.datasets import (
    COMMUNITY_REPORTS,
    ENGAGEMENT_EVENTS,
    INCIDENTS,
    DatasetSpec,
)
from openbeat.releases.latest import latest_tables
from openbeat.releases.staging import StagedRecord

# Which public source feeds each row-level dataset.
DATASET_SOURCES: dict[str, str] = {
    INCIDENTS.name: "incidents",
    COMMUNITY_REPORTS.name: "reports",
    ENGAGEMENT_EVENTS.name: "engagements",
}
# engagement-events publishes events that are held or scheduled (SPEC 5), not cancelled ones.
PUBLISHED_ENGAGEMENT_STATUSES = frozenset({"scheduled", "held"})


def publishable(
    dataset: str, row: Mapping[str, Any], policy: Policy, cutoff: datetime, zone: tzinfo
) -> bool:
    """THE row-level "as of a cutoff" rule: an incident reported on or before the publication
    day of `cutoff` (`Policy.publication_day`), a community report submitted before the
    publication cutoff; engagement events always (announcing upcoming ones is the point).
    The releaser cuts with it and the release gate checks every published row with it."""
    return publishable_test(dataset, policy, cutoff, zone)(row)


def publishable_test(
    dataset: str, policy: Policy, cutoff: datetime, zone: tzinfo
) -> Callable[[Mapping[str, Any]], bool]:
    """`publishable` for one dataset and cutoff as a predicate on rows: the limit is worked out
    once, not per row (a city's history is millions of rows)."""
    if dataset == INCIDENTS.name:
        day = policy.publication_day(cutoff, zone)
        return lambda row: bool(row["reported_date"] <= day)
    if dataset == COMMUNITY_REPORTS.name:
        limit = policy.publication_cutoff(cutoff)
        return lambda row: bool(row["submitted_hour"] < limit)
    return lambda row: True


def publishable_mask(
    dataset: str, policy: Policy, cutoff: datetime, zone: tzinfo
) -> Callable[[pa.Table], pa.ChunkedArray | pa.Array | None]:
    """`publishable_test` on a whole table: which rows the rule keeps (None: every row). The
    same limits, worked out by the same calls; a property test holds the two forms equal."""
    if dataset == INCIDENTS.name:
        day = policy.publication_day(cutoff, zone)
        return lambda table: pc.less_equal(table.column("reported_date"), pa.scalar(day))
    if dataset == COMMUNITY_REPORTS.name:
        limit = policy.publication_cutoff(cutoff)
        return lambda table: pc.less(
            table.column("submitted_hour"),
            pa.scalar(limit, type=table.schema.field("submitted_hour").type),
        )
    return lambda table: None


def project(spec: DatasetSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """A row with exactly the dataset's columns (missing optional fields become None)."""
    return projection(spec)(record)


def projection(spec: DatasetSpec) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """`project` for one dataset, its column names listed once rather than per row."""
    names = spec.column_names
    return lambda record: {name: record.get(name) for name in names}


def dataset_rows(dataset: str, staged: Iterable[StagedRecord]) -> Iterator[dict[str, Any]]:
    """The rows of a row-level dataset from its staged public records (any order): the latest
    revision of each record (`releases.latest`, in bounded memory), withdrawn ones dropped."""
    for table in dataset_tables(dataset, staged):
        yield from table.to_pylist()


def dataset_tables(dataset: str, staged: Iterable[StagedRecord]) -> Iterator[pa.Table]:
    """`dataset_rows` as Arrow tables of the dataset's columns (what the release builder takes)."""
    if dataset not in DATASET_SOURCES:
        raise KeyError(f"{dataset!r} is not a row-level dataset; its rows come from aggregation")
    spec = {s.name: s for s in (INCIDENTS, COMMUNITY_REPORTS, ENGAGEMENT_EVENTS)}[dataset]

    def dropped(record: Mapping[str, Any]) -> bool:
        if record.get("withdrawn"):
            return True
        return dataset == ENGAGEMENT_EVENTS.name and (
            record.get("status") not in PUBLISHED_ENGAGEMENT_STATUSES
        )

    return latest_tables(spec, staged, dropped)
