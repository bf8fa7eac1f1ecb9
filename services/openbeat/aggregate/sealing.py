"""Sealed periods: an aggregate figure that rests on non-public input is published once, for good.

Why: figures that include withheld incidents or survey answers leak them when they change. A
cell whose count minus its public rows goes 5 -> 6 between two releases places one new withheld
incident; a district's survey mean shown one week and suppressed the next while the citywide row
appears gives away one person's answer by subtraction. So (issue 9, item 2):

* A period (local day, ISO week) is published only once it is **closed plus the policy's
  settle_days**, and its figures are computed then, exactly once, and stored in the sealed
  ledger (`pipeline.sealed`, private state). Every later release copies them unchanged: two
  releases never differ on a sealed figure, so nothing can be learned by comparing them.
* Periods are sealed **contiguously**: each release seals every period after the ledger's last
  one up to the newest settled one, whether or not it has any data, so which periods have rows
  never depends on a suppressed value.
* **Late records** (an incident reported more than settle_days after it occurred, anything
  arriving after its period was sealed) are not counted in the sealed period; the data
  dictionary says so. For public incidents "late" is decided from published columns
  (`periods.is_late`), so a reader can tell which rows a sealed count covers.

`seal` is pure: the ledger's current content and a function computing rows for a range of
periods in, the new content out. Figures keep their true shown value (`value`) beside the
published `count` so coarser grains can be summed from sealed days (`coarser_counts`); the
ledger is private state and `value` never reaches a published file.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openbeat.aggregate.periods import Grain, Period, last_sealed_day, period_of, periods_between

logger = logging.getLogger(__name__)

Row = dict[str, Any]
# Rows of the periods in [first, last] (first None: from the first period with any data).
ComputeRows = Callable[[date | None, date], list[Row]]

# Rows of the citywide row of withheld incidents: never summed into a coarser grain (its value
# is private; a coarser withheld figure would be a difference of published ones).
CITYWIDE = "(citywide)"
WITHHELD = "(withheld)"
_ONE_DAY = timedelta(days=1)


class SealingError(ValueError):
    """A ledger that would change a sealed figure: refused rather than published."""


@dataclass
class Sealed:
    """The sealed figures of one dataset: every period up to `through`, keyed by period key."""

    grain: Grain
    through: date | None = None
    periods: dict[str, list[Row]] = field(default_factory=dict)

    def rows(self) -> list[Row]:
        return [row for key in sorted(self.periods) for row in self.periods[key]]


def seal(
    ledger: Sealed,
    *,
    until_day: date,
    settle_days: int,
    compute: ComputeRows,
    period_key: Callable[[Row], str],
) -> list[str]:
    """Seal every period after `ledger.through` that is closed and settled; returns new keys.

    `until_day` is the local date of `Policy.publication_cutoff` for the release. Periods
    already in the ledger are never recomputed (SealingError if `compute` is asked to).
    """
    through = last_sealed_day(until_day, settle_days)
    last = period_of(ledger.grain, through)
    if last.last > through:  # the period holding `through` is not over yet
        last = period_of(ledger.grain, last.first - _ONE_DAY)
    if ledger.through is not None and last.last <= ledger.through:
        return []
    start = None if ledger.through is None else ledger.through + _ONE_DAY
    rows = compute(start, last.last)
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[period_key(row)].append(row)
    first_day = start
    if first_day is None:
        if not rows:
            return []  # nothing to seal yet: the first period is the first with any data
        first_day = min(_period_of_key(ledger.grain, key).first for key in grouped)
    new_keys: list[str] = []
    for period in periods_between(ledger.grain, first_day, last.last):
        if period.key in ledger.periods:
            raise SealingError(f"period {period.key} is sealed already; refusing to change it")
        ledger.periods[period.key] = grouped.pop(period.key, [])
        new_keys.append(period.key)
    if grouped:
        raise SealingError(f"rows outside the periods sealed now: {sorted(grouped)[:3]}")
    ledger.through = last.last
    logger.info("sealed %d %s periods through %s", len(new_keys), ledger.grain, ledger.through)
    return new_keys


def _period_of_key(grain: Grain, key: str) -> Period:
    if grain == "day":
        return period_of("day", date.fromisoformat(key))
    if grain == "week":
        return period_of("week", date.fromisocalendar(int(key[:4]), int(key[6:]), 1))
    return period_of("month", date.fromisoformat(f"{key}-01"))


def published_counts(rows: Iterable[Row]) -> list[Row]:
    """Ledger rows of incident counts as published: `value` only where not suppressed."""
    return [
        {
            "date": row["date"],
            "district": row["district"],
            "category": row["category"],
            "count": None if row["suppressed"] else row["value"],
            "suppressed": row["suppressed"],
        }
        for row in rows
    ]


def coarser_counts(daily: Sealed, grain: Grain, k: int) -> list[Row]:
    """Weekly or monthly counts per district and citywide, summed from sealed daily figures.

    Only periods whose every day is sealed get rows. Each figure is a sum of shown daily
    values: public incidents plus withheld parts that were shown (0 or >= k) in their daily
    cell, so it is a function of published data (daily counts and incident rows) and can reveal
    nothing the daily grain does not. Withheld parts moved to the daily citywide row are not
    summed: that row's daily counts are all the release says about them. A figure below k is
    suppressed, like a daily cell.
    """
    if daily.through is None:
        return []
    sums: dict[tuple[str, date, str, str], int] = defaultdict(int)
    for row in daily.rows():
        if row["district"] == CITYWIDE:
            continue
        day = row["date"]
        period = period_of(grain, day)
        if period.last > daily.through:
            continue
        for district in (row["district"], CITYWIDE):
            sums[(period.key, period.first, district, row["category"])] += int(row["value"])
    out = []
    for (key, first, district, category), value in sorted(sums.items()):
        if value <= 0:
            continue
        hidden = value < k
        out.append(
            {
                "period": key,
                "period_start": first,
                "district": district,
                "category": category,
                "count": None if hidden else value,
                "suppressed": hidden,
            }
        )
    return out
