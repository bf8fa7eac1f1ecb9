"""Aggregate periods: local days, ISO weeks and calendar months, and when each one is closed.

Every aggregate figure belongs to one period on the jurisdiction's local calendar (incident
dates are local dates already; engagement start instants are converted with the zone). A period
is closed once its last local day is over. Sealing (`aggregate.sealing`) publishes a period only
once it is closed plus the policy's settle delay, and never changes it afterwards.

Keys are what the datasets publish: "2026-11-30" (day), "2026-W49" (ISO week, ISO year),
"2026-11" (month). Keys of one grain sort in time order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

logger = logging.getLogger(__name__)

Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")


@dataclass(frozen=True, order=True)
class Period:
    """One period of a grain: its first and last local day (inclusive)."""

    first: date
    last: date
    grain: Grain

    @property
    def key(self) -> str:
        if self.grain == "day":
            return self.first.isoformat()
        if self.grain == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.year:04d}-{self.first.month:02d}"

    def next(self) -> Period:
        return period_of(self.grain, self.last + timedelta(days=1))

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last


def period_of(grain: Grain, day: date) -> Period:
    """The period of `grain` holding the local date `day`."""
    if grain == "day":
        return Period(day, day, "day")
    if grain == "week":
        monday = day - timedelta(days=day.weekday())
        return Period(monday, monday + timedelta(days=6), "week")
    if grain == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period(first, following - timedelta(days=1), "month")
    raise ValueError(f"unknown grain {grain!r}: choose from {', '.join(GRAINS)}")


def periods_between(grain: Grain, first: date, last: date) -> list[Period]:
    """Every period of `grain` that holds a day in [first, last], in time order."""
    if last < first:
        return []
    periods = [period_of(grain, first)]
    while periods[-1].last < last:
        periods.append(periods[-1].next())
    return periods


def last_sealed_day(until_day: date, settle_days: int) -> date:
    """The last local day whose period may be sealed when publishing up to `until_day`.

    `until_day` is the local date of the policy's publication cutoff (that day is not over
    yet), so the last complete day is the one before, and a day is sealed once `settle_days`
    more complete days have followed it.
    """
    if settle_days < 0:
        raise ValueError(f"settle_days must be 0 or more, got {settle_days}")
    return until_day - timedelta(days=settle_days + 1)


def sealed_periods(grain: Grain, first: date, until_day: date, settle_days: int) -> list[Period]:
    """The periods of `grain` from the one holding `first` that are closed and settled."""
    through = last_sealed_day(until_day, settle_days)
    return [p for p in periods_between(grain, first, through) if p.last <= through]


def is_late(occurred: date, reported: date, settle_days: int) -> bool:
    """True for a record reported after its day was sealed: it is not counted in that day.

    Decided from two published columns (occurred_date, reported_date), so any reader can tell
    which rows a sealed count covers, and the answer never changes between releases.
    """
    return reported > occurred + timedelta(days=settle_days)
