"""The numbers of the site, from the published daily cells: pure functions of small tables.

Every number is a sum of published (unsuppressed) `incident-counts` cells, so a page never
shows a count the dataset withholds, and a resident can reproduce each number from the dataset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

Cell = tuple[date, str, str, int]

WINDOW = 28
WEEKS = 26


@dataclass(frozen=True)
class Window:
    """Incidents in the last 28 days to `end` against the 28 days before."""

    start: date
    end: date
    current: int
    previous: int

    @property
    def change_percent(self) -> float | None:
        if self.previous == 0:
            return None
        return 100.0 * (self.current - self.previous) / self.previous


def window(cells: Iterable[Cell], end: date, district: str | None = None) -> Window:
    start = end - timedelta(days=WINDOW - 1)
    before = start - timedelta(days=WINDOW)
    current = previous = 0
    for day, where, _, count in cells:
        if district is not None and where != district:
            continue
        if start <= day <= end:
            current += count
        elif before <= day < start:
            previous += count
    return Window(start, end, current, previous)


def weekly(
    cells: Sequence[Cell], end: date, district: str | None = None, first: date | None = None
) -> list[tuple[date, int]]:
    """(Monday, incidents) for the last 26 complete-or-current weeks up to `end`.

    `first` is the first published day of the whole table (default: of `cells`), so a caller
    that passes one district's cells (`by_district_cells`) leaves out the same weeks."""
    last_monday = end - timedelta(days=end.weekday())
    weeks = [last_monday - timedelta(weeks=i) for i in range(WEEKS - 1, -1, -1)]
    totals: dict[date, int] = dict.fromkeys(weeks, 0)
    for day, where, _, count in cells:
        if district is not None and where != district:
            continue
        monday = day - timedelta(days=day.weekday())
        if monday in totals and day <= end:
            totals[monday] += count
    # Weeks before the first published day are not zero, they are unknown: leave them out.
    if first is None:
        first = min((day for day, *_ in cells), default=None)
    return [(w, totals[w]) for w in weeks if first is None or w >= first - timedelta(days=6)]


def by_category(
    cells: Iterable[Cell], end: date, district: str | None = None
) -> list[tuple[str, int]]:
    """(category, incidents) of the last 28 days, largest first (ties by name)."""
    start = end - timedelta(days=WINDOW - 1)
    totals: dict[str, int] = defaultdict(int)
    for day, where, category, count in cells:
        if (district is None or where == district) and start <= day <= end:
            totals[category] += count
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def by_district(cells: Iterable[Cell], end: date) -> dict[str, int]:
    start = end - timedelta(days=WINDOW - 1)
    totals: dict[str, int] = defaultdict(int)
    for day, where, _, count in cells:
        if start <= day <= end:
            totals[where] += count
    return dict(totals)


def by_district_cells(cells: Iterable[Cell]) -> dict[str, list[Cell]]:
    """The cells of each district, in their order: one pass, so the district pages do not
    each scan the whole city's year of cells (a large city has hundreds of thousands)."""
    out: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        out[cell[1]].append(cell)
    return out
