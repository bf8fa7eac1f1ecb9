"""Typed privacy checks of published rows, built on the very functions the anonymizer uses.

The verifier does not guess from text what a column may hold: each column of each dataset has
a rule, and the rule is the anonymizer's own function run backwards:

- a `block` must be what `privacy.blocks.generalize_address` makes of itself (a hundred block or
  an intersection is a fixed point; `JOHN SMITH RESIDENCE` or `1234 W MAIN ST` is not) and pass
  `is_public_location`; `location_precision` must say what the block is;
- a point must be a grid-cell centre of the policy's grid (`privacy.grid.is_cell_centre`), and
  there is none when only the district may be shown;
- hours are truncated to the local hour (or absent with day truncation); sensitive offenses
  show neither hour, block nor point (`contracts.offenses` says which codes are sensitive);
- one row per public id (the latest revision), ids in the pseudonym format, and only rows old
  enough to publish as of the release's cutoff (`releases.rows.publishable`, the releaser's
  own rule);
- partner and venue names are the registry's (`privacy.names`) or the "N other partners" count
  (a problem names the row's public id, never the name: an unlisted one may be a person's);
- aggregates: a shown count is at least k, and `suppressed` says exactly what is hidden.

`check_rows(dataset, rows, rules)` yields `(column, message)` per problem; the caller names the
object and caps the listing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from openbeat.contracts.offenses import OffenseTable
from openbeat.privacy.blocks import generalize_address, is_public_location
from openbeat.privacy.grid import is_cell_centre
from openbeat.privacy.names import NameRegistry
from openbeat.privacy.policy import Policy
from openbeat.releases.rows import publishable_test

logger = logging.getLogger(__name__)

Row = Mapping[str, Any]
Problem = tuple[str, str]  # (column, message)

_PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")
LOCATED = ("incidents", "community-reports")


@dataclass(frozen=True)
class CheckRules:
    """What the typed checks need: the policy in force when the release was cut (from its
    manifest), the offense table, the time zone and, when known, the jurisdiction's registry."""

    policy: Policy
    offenses: OffenseTable
    zone: tzinfo
    names: NameRegistry | None = None
    cutoff: datetime | None = None  # the release's cutoff (its manifest's)
    sensitive_codes: frozenset[str] = field(init=False)
    _publishable: dict[str, Callable[[Row], bool]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        codes = self.offenses.sensitive_codes | set(self.policy.sensitive.extra_codes)
        object.__setattr__(self, "sensitive_codes", frozenset(codes))

    def publishable(self, dataset: str, row: Row) -> bool:
        """`releases.rows.publishable` as of the release's cutoff (which must be known)."""
        test = self._publishable.get(dataset)
        if test is None:
            assert self.cutoff is not None
            test = publishable_test(dataset, self.policy, self.cutoff, self.zone)
            self._publishable[dataset] = test
        return test(row)


def check_location(
    block: str | None, precision: str | None, lat: float | None, lon: float | None, grid_m: float
) -> Iterator[Problem]:
    """A published place: the block as the anonymizer writes it, the point a cell centre."""
    yield from _location_problems(block, precision, lat, lon, grid_m)


# A pure function of its arguments, and a city's rows share few places (the 299k-row Chicago
# backfill has ~7k): remembering the last 64k places checks each once. Entries are a few
# hundred bytes, so the cache stays ~20 MB at most.
@lru_cache(maxsize=65536)
def _location_problems(
    block: str | None, precision: str | None, lat: float | None, lon: float | None, grid_m: float
) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    if block is not None:
        generalized, kind = generalize_address(block)
        if generalized != block or not is_public_location(block):
            problems.append(
                ("block", f"{block!r} is not a hundred block or intersection the anonymizer writes")
            )
        elif precision is not None and precision != kind:
            problems.append(
                ("location_precision", f"{precision!r} but the block {block!r} is an {kind}")
            )
    elif precision not in (None, "district"):
        problems.append(("location_precision", f"{precision!r} without a block"))
    if (lat is None) != (lon is None):
        problems.append(("latitude", "latitude and longitude must be both present or both absent"))
    elif lat is not None and lon is not None:
        if precision == "district":
            problems.append(("latitude", "a point on a record shown at district level only"))
        elif not is_cell_centre(float(lat), float(lon), grid_m):
            problems.append(("latitude", f"({lat}, {lon}) is not a {grid_m:g} m grid-cell centre"))
    return tuple(problems)


def _on_the_hour(moment: datetime | None, rules: CheckRules, column: str) -> Iterator[Problem]:
    if moment is None:
        return
    if rules.policy.time_truncation == "day":
        yield column, "an hour is published though the policy truncates times to the day"
        return
    local = moment.astimezone(rules.zone)
    if (local.minute, local.second, local.microsecond) != (0, 0, 0):
        yield column, f"{moment.isoformat()} is not truncated to the hour"


def _as_of_cutoff(dataset: str, column: str, row: Row, rules: CheckRules) -> Iterator[Problem]:
    cutoff = rules.cutoff
    if cutoff is None or row.get(column) is None:
        return
    if not rules.publishable(dataset, row):
        yield column, f"{row[column]} is too young to publish as of {cutoff.isoformat()}"


def _incident(row: Row, rules: CheckRules) -> Iterator[Problem]:
    yield from _as_of_cutoff("incidents", "reported_date", row, rules)
    yield from check_location(
        row.get("block"),
        row.get("location_precision"),
        row.get("latitude"),
        row.get("longitude"),
        rules.policy.grid_cell_m,
    )
    yield from _on_the_hour(row.get("occurred_hour"), rules, "occurred_hour")
    codes = {row.get("offense_code"), *(row.get("offense_codes") or ())}
    if codes & rules.sensitive_codes:
        shown = [c for c in ("occurred_hour", "block", "latitude") if row.get(c) is not None]
        if shown or row.get("location_precision") != "district":
            yield (
                "location_precision",
                (
                    f"sensitive offense {row.get('offense_code')!r} published with "
                    f"{', '.join(shown) or 'a precision finer than the district'}"
                ),
            )


def _report(row: Row, rules: CheckRules) -> Iterator[Problem]:
    yield from _as_of_cutoff("community-reports", "submitted_hour", row, rules)
    yield from check_location(
        row.get("block"),
        row.get("location_precision"),
        row.get("latitude"),
        row.get("longitude"),
        rules.policy.grid_cell_m,
    )
    yield from _on_the_hour(row.get("submitted_hour"), rules, "submitted_hour")
    text = row.get("description")
    if text is not None:
        if not rules.policy.publish_report_text:
            yield "description", "report text published though the policy keeps it unpublished"
        elif any(c.isdigit() for c in text):
            yield "description", "digits in a redacted description (redaction replaces them all)"


def _engagement(row: Row, rules: CheckRules) -> Iterator[Problem]:
    yield from check_location(row.get("block"), None, None, None, rules.policy.grid_cell_m)
    names = rules.names
    if names is None:
        return
    # The value itself is never quoted: a name the registry does not list may be a person's.
    where, registry = f"row {row.get('public_id')}", Path(names.source).name
    venue = row.get("venue")
    if venue is not None and not names.is_published_venue(venue):
        yield "venue", f"{where}: a name not in the registry ({registry})"
    for partner in row.get("partners") or ():
        if not names.is_published_partner(partner):
            yield (
                "partners",
                f"{where}: a name not in the registry ({registry}) nor an 'N other partners' count",
            )


def _shown_at_least_k(column: str, hidden: tuple[str, ...]) -> Callable[[Row, CheckRules], Any]:
    def check(row: Row, rules: CheckRules) -> Iterator[Problem]:
        value, suppressed = row.get(column), bool(row.get("suppressed"))
        if suppressed and any(row.get(c) is not None for c in (column, *hidden)):
            yield column, "a suppressed row shows its figures"
        if not suppressed and value is None:
            yield column, "neither shown nor marked suppressed"
        if not suppressed and value is not None and 0 < value < rules.policy.k:
            yield column, f"{value} is shown, below k = {rules.policy.k}"

    return check


ROW_CHECKS: dict[str, Callable[[Row, CheckRules], Iterable[Problem]]] = {
    "incidents": _incident,
    "community-reports": _report,
    "engagement-events": _engagement,
    "incident-counts": _shown_at_least_k("count", ()),
    "engagement-summary": _shown_at_least_k("survey_responses", ("mean_trust", "mean_safety")),
}


def check_rows(dataset: str, rows: Iterable[Row], rules: CheckRules) -> Iterator[Problem]:
    """Every typed problem of `rows` of `dataset` (datasets without rules yield nothing)."""
    check = ROW_CHECKS.get(dataset)
    if check is None:
        # Aggregates at other grains (weekly, monthly) follow the daily rule.
        check = ROW_CHECKS["incident-counts"] if dataset.startswith("incident-counts") else None
    ids = _Ids()
    for row in rows:
        if check is not None:
            yield from check(row, rules)
        public_id = row.get("public_id")
        if public_id is None:
            continue
        if not _PUBLIC_ID.match(str(public_id)):
            yield "public_id", f"{public_id!r} is not a pseudonym"
        else:
            ids.add(public_id)
    for public_id, count in ids.repeated():
        for _ in range(count - 1):
            yield (
                "public_id",
                f"{public_id} appears twice (one row per record: its latest revision)",
            )


class _Ids:
    """The public ids of a release, 16 bytes each, for the one-row-per-record check: a set of
    10M id strings alone is about 1 GB, against the 10M-row release's 1 GB bound (issue 13)."""

    def __init__(self) -> None:
        self._packed = bytearray()
        self._n = 0

    def add(self, public_id: str) -> None:
        self._packed += bytes.fromhex(public_id)
        self._n += 1

    def repeated(self) -> list[tuple[str, int]]:
        """(id, how many rows) of every id on more than one row, in id order."""
        if not self._n:
            return []
        ids = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(16), self._n, [None, pa.py_buffer(self._packed)]
        )
        counts = pc.value_counts(ids)
        repeated = counts.filter(pc.greater(counts.field("counts"), 1))
        return sorted(
            (value.hex(), count)
            for value, count in zip(
                repeated.field("values").to_pylist(),
                repeated.field("counts").to_pylist(),
                strict=True,
            )
        )
