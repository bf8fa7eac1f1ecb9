"""The `engagement-summary` dataset: ISO week x district -> events held, attendees, survey scores.

Rows carry exactly the columns of `releases.datasets.ENGAGEMENT_SUMMARY`: iso_week ("2026-W47"),
district, events_held, one count per kind (KIND_COLUMNS), attendees, survey_responses,
mean_trust, mean_safety, suppressed.

Design, and why:

* **Events are not suppressed.** Events held, by kind, and their attendee counts describe public
  events that the `engagement-events` dataset lists one by one (with attendee_count); they are
  not about persons, and hiding a "1" here would hide nothing. Only held events count (scheduled
  and cancelled ones were not held); an event withdrawn from the public stream does not count.
* **Survey statistics are.** Survey responses are published only as aggregates (SPEC 4). For a
  district-week with fewer than k responses, survey_responses, mean_trust and mean_safety are all
  null and `suppressed` is true: the count and the means are hidden together, because a mean is
  based on exactly the responses counted.
* **Zero is suppressed too, and every district-week has a row.** The grid (weeks between the
  first and last with any activity, or [start, end]; districts given or seen) is small, so rows
  for every cell cost little, and hiding 0 like 1..k-1 means neither a row's presence nor its
  flag says whether anyone from a district answered the survey that week.
* **Citywide rows are totals, so complementary suppression applies.** With `citywide=True` each
  week also has a district "(citywide)" row. Its response count and means are a published total,
  from which a single hidden district (or several whose values are pinned down, or a hidden group
  with fewer than k responses, whose mean a reader could compute from the citywide mean) could
  be recovered; `suppression.protect_group` hides more districts, or the citywide survey
  figures, until that is impossible.
* Means are rounded to 2 decimals with Python's round(), which is deterministic for the same
  sums, as byte-identical releases need.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from openbeat.aggregate.state import AggregateState
from openbeat.aggregate.suppression import protect_group

logger = logging.getLogger(__name__)

# Event kind -> its column in the published dataset.
KIND_COLUMNS = {
    "community_meeting": "meetings",
    "neighborhood_watch": "neighborhood_watch",
    "school_workshop": "school_workshops",
    "patrol_walk": "patrol_walks",
    "forum": "forums",
}
KINDS = tuple(KIND_COLUMNS)
CITYWIDE = "(citywide)"

# Every district-week has a row, so a hidden response count may be as small as 0.
_GRID_FLOOR = 0


def iso_week(day: date) -> str:
    """ISO 8601 week of a date, as "2026-W47" (the ISO year, which may differ at year ends)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _monday(day: date) -> int:
    return day.toordinal() - day.weekday()


class _Cell:
    """Running totals of one district-week."""

    __slots__ = ("attendees", "by_kind", "events", "responses", "safety_sum", "trust_sum")

    def __init__(self) -> None:
        self.events = 0
        self.by_kind = dict.fromkeys(KINDS, 0)
        self.attendees = 0
        self.responses = 0
        self.trust_sum = 0
        self.safety_sum = 0

    def absorb(self, other: _Cell) -> None:
        self.events += other.events
        for kind in KINDS:
            self.by_kind[kind] += other.by_kind[kind]
        self.attendees += other.attendees
        self.responses += other.responses
        self.trust_sum += other.trust_sum
        self.safety_sum += other.safety_sum


def _collect(
    state: AggregateState, tz: tzinfo, first: int | None, last: int | None
) -> dict[tuple[int, str], _Cell]:
    cells: dict[tuple[int, str], _Cell] = defaultdict(_Cell)
    for starts_at, district, kind, attendees in state.held_events():
        day = datetime.fromtimestamp(starts_at, tz).date()
        ordinal = day.toordinal()
        if (first is not None and ordinal < first) or (last is not None and ordinal > last):
            continue
        cell = cells[(_monday(day), district)]
        cell.events += 1
        if kind in cell.by_kind:
            cell.by_kind[kind] += 1
        cell.attendees += attendees
    for ordinal, district, trust, safety in state.survey_scores():
        if (first is not None and ordinal < first) or (last is not None and ordinal > last):
            continue
        cell = cells[(_monday(date.fromordinal(ordinal)), district)]
        cell.responses += 1
        cell.trust_sum += trust
        cell.safety_sum += safety
    return cells


def _row(monday: int, district: str, cell: _Cell, suppressed: bool) -> dict[str, Any]:
    week_start = date.fromordinal(monday)
    row: dict[str, Any] = {
        "iso_week": iso_week(week_start),
        "district": district,
        "events_held": cell.events,
    }
    for kind, column in KIND_COLUMNS.items():
        row[column] = cell.by_kind[kind]
    row["attendees"] = cell.attendees
    hide = suppressed or cell.responses == 0
    row["survey_responses"] = None if hide else cell.responses
    row["mean_trust"] = None if hide else round(cell.trust_sum / cell.responses, 2)
    row["mean_safety"] = None if hide else round(cell.safety_sum / cell.responses, 2)
    row["suppressed"] = hide
    return row


def engagement_summary(
    state: AggregateState,
    k: int = 5,
    *,
    tz: tzinfo = UTC,
    districts: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    citywide: bool = True,
) -> list[dict[str, Any]]:
    """Rows of `engagement-summary`, sorted by (week, district), citywide row last in its week.

    `tz` is the jurisdiction's zone (event start times are UTC; weeks are local). `districts`
    should be the jurisdiction's district ids, so that every district gets a row every week;
    districts seen in the data are added. [start, end] limits local dates (inclusive).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    first = start.toordinal() if start else None
    last = end.toordinal() if end else None
    cells = _collect(state, tz, first, last)
    names = sorted(set(districts or ()) | {district for _, district in cells})
    mondays = {monday for monday, _ in cells}
    if start is not None:
        mondays.add(_monday(start))
    if end is not None:
        mondays.add(_monday(end))
    if not mondays or not names:
        return []

    rows: list[dict[str, Any]] = []
    empty = _Cell()
    for monday in range(min(mondays), max(mondays) + 1, 7):
        week = {name: cells.get((monday, name), empty) for name in names}
        responses = {name: cell.responses for name, cell in week.items()}
        if citywide:
            hidden, total_published = protect_group(responses, k=k, floor=_GRID_FLOOR)
        else:
            hidden, total_published = frozenset(n for n, r in responses.items() if r < k), False
        for name, cell in week.items():
            rows.append(_row(monday, name, cell, name in hidden))
        if citywide:
            total = _Cell()
            for cell in week.values():
                total.absorb(cell)
            rows.append(_row(monday, CITYWIDE, total, not total_published))
    logger.debug("engagement summary: %d rows (k=%d)", len(rows), k)
    return rows
