"""The `incident-counts` dataset: day x district x category -> count, safe to publish (SPEC 4, 5).

Rows are {date, district, category, count, suppressed}; `count` is None when `suppressed`.

Design, and why:

* **Withheld incidents count, at a safe grain.** A cell's count is public + withheld incidents,
  and the public `incidents` dataset lets anyone count the public rows of a cell (its rows carry
  occurred_date, district and category), so count - public rows = withheld. SPEC 4 forbids that
  difference in 1..k-1. A cell's withheld part w is therefore added to the cell only when it is 0
  or at least k; a part in 1..k-1 moves to a per-day citywide row (district "(citywide)",
  category "(withheld)"). Suppressing such a cell instead would leak: a cell with k or more public
  rows that shows as suppressed could only be hiding 1..k-1 withheld incidents. With the move, a
  cell whose difference is 0 may or may not have had a small withheld part, which is the point.
  The citywide row holds no public rows, so its difference is its count, which is published only
  when at least k (otherwise suppressed). Every withheld incident is counted exactly once.
* **Only non-empty cells get a row.** Explicit zeros for every day x district x category would
  multiply the dataset by the number of categories for no information; and the presence of a row
  leaks nothing private here, because a cell's shown count is its public rows plus a withheld
  part that is 0 or >= k: a cell whose only incidents are a few withheld ones shows 0 and has no
  row, exactly like an empty cell. The same goes for the citywide withheld row (its presence says
  what its suppressed flag says: 1..k-1 withheld incidents were moved that day).
* **Small cells are suppressed** (count 1..k-1: null and suppressed=true), as the policy
  requires. By construction a suppressed cell never holds withheld incidents (a withheld part,
  when shown, is >= k), so even a reader who counts the public rows of a suppressed cell learns
  nothing that is not already public.
* **No totals by default.** Without published totals nothing is derivable by subtraction (the sum
  of published cells is just that). With `margins=True` a per-day per-district total (category
  "(all)") is published, built from the shown cells (so its difference from the public rows is a
  sum of parts each 0 or >= k), and complementary suppression (see `suppression.py`) hides more
  cells, or the total itself, so that no hidden cell can be recovered from it.
* **No noise.** An earlier option added geometric noise to the withheld parts, but the decision
  to show or suppress a cell was taken on the true values and no budget was kept, so it was not
  differential privacy end to end (issue 9); it was removed. The protection here is the k floor,
  the move of small withheld parts and sealing (`sealing.py`), each stated above.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from openbeat.aggregate.engagement import engagement_summary
from openbeat.aggregate.state import AggregateState, CellKey
from openbeat.aggregate.suppression import protect_group

logger = logging.getLogger(__name__)

__all__ = [
    "ALL_CATEGORIES",
    "CITYWIDE",
    "WITHHELD",
    "engagement_summary",
    "incident_counts",
    "sealed_incident_rows",
    "split_withheld",
]

# Marker values for rows that are not a plain cell. Parenthesised so they can never collide with
# a district id (letters, digits, _ and -) or a public category.
CITYWIDE = "(citywide)"
WITHHELD = "(withheld)"
ALL_CATEGORIES = "(all)"

# A cell that is not empty has at least one record, so a reader knows a hidden cell's value is
# at least 1 (empty cells have no row).
_NONEMPTY_FLOOR = 1


def split_withheld(withheld: int, k: int) -> tuple[int, int]:
    """(part shown in the cell, part moved to the citywide row) of a cell's withheld count."""
    if withheld == 0 or withheld >= k:
        return withheld, 0
    return 0, withheld


def _row(day: int, district: str, category: str, count: int, suppressed: bool) -> dict[str, Any]:
    return {
        "date": date.fromordinal(day),
        "district": district,
        "category": category,
        "count": None if suppressed else count,
        "suppressed": suppressed,
    }


def _shown_cells(
    state: AggregateState, k: int, start: date | None, end: date | None
) -> tuple[dict[CellKey, int], dict[int, int]]:
    """Shown value of every non-empty cell in [start, end], and withheld parts moved per day."""
    public, withheld = state.incident_cells()
    first = start.toordinal() if start else None
    last = end.toordinal() if end else None
    shown: dict[CellKey, int] = {}
    moved: dict[int, int] = defaultdict(int)
    for key in sorted(public.keys() | withheld.keys()):
        day = key[0]
        if (first is not None and day < first) or (last is not None and day > last):
            continue
        in_cell, to_citywide = split_withheld(withheld.get(key, 0), k)
        if to_citywide:
            moved[day] += to_citywide
        value = public.get(key, 0) + in_cell
        if value:
            shown[key] = value
    return shown, moved


def incident_counts(
    state: AggregateState,
    k: int = 5,
    *,
    start: date | None = None,
    end: date | None = None,
    margins: bool = False,
) -> list[dict[str, Any]]:
    """Rows of `incident-counts` for occurred dates in [start, end] (both optional, inclusive).

    Rows are sorted by (date, district, category). See the module docstring for the design.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    shown, moved = _shown_cells(state, k, start, end)
    rows: list[dict[str, Any]] = []

    groups: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for (day, district, category), value in shown.items():
        groups[(day, district)][category] = value
    for (day, district), cells in groups.items():
        if margins:
            hidden, total_published = protect_group(cells, k=k, floor=_NONEMPTY_FLOOR)
            total = sum(cells.values())
            rows.append(_row(day, district, ALL_CATEGORIES, total, not total_published))
        else:
            hidden = frozenset(category for category, value in cells.items() if value < k)
        for category, value in cells.items():
            rows.append(_row(day, district, category, value, category in hidden))

    for day, count in moved.items():
        rows.append(_row(day, CITYWIDE, WITHHELD, count, count < k))

    rows.sort(key=lambda row: (row["date"], row["district"], row["category"]))
    logger.debug("incident counts: %d rows (k=%d, margins=%s)", len(rows), k, margins)
    return rows


def sealed_incident_rows(
    state: AggregateState,
    k: int,
    *,
    start: date | None,
    end: date,
) -> list[dict[str, Any]]:
    """Rows of the sealed ledger for days in [start, end]: each cell's shown `value` and
    whether it is suppressed, plus a citywide withheld row for **every** day.

    The citywide row is there every day, its count shown only when at least k (0 is hidden
    like 1..k-1), so its presence never depends on a suppressed value (issue 9). With start
    None the range begins at the first day with any incident. `value` is private (the
    ledger's); `sealing.published_counts` makes the published rows.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    shown, moved = _shown_cells(state, k, start, end)
    days = {key[0] for key in shown} | set(moved)
    if start is None and not days:
        return []
    first = start.toordinal() if start is not None else min(days)
    rows = [
        {**_row(day, district, category, value, value < k), "value": value}
        for (day, district, category), value in shown.items()
    ]
    for day in range(first, end.toordinal() + 1):
        count = moved.get(day, 0)
        rows.append({**_row(day, CITYWIDE, WITHHELD, count, count < k), "value": count})
    for row in rows:
        del row["count"]
    rows.sort(key=lambda row: (row["date"], row["district"], row["category"]))
    return rows
