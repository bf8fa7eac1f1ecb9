"""What a reader can compute by subtraction, as checks the tests and the verifier share.

Two attacks from issue 9, as functions over published rows only:

* **Count minus rows, within a release.** For a daily cell (date, district, category) a reader
  counts the `incidents` rows with that occurred_date, district and category that the cell
  covers (not late, `periods.is_late`) and subtracts them from the cell's count: what is left is
  the withheld part. It must be 0 or at least k. `withheld_differences` lists every cell where
  it is not. Rows that left the dataset after their day was sealed (withdrawn, or revised into
  another cell) are still counted by the sealed figure; pass the rows of the release that first
  published the day (or include the rows removed since) to check a later release. A public
  row that reaches the pipeline after its day was sealed although its reported_date says it was
  on time (an agency backfilling old reports) is not in the sealed count either: the difference
  is then smaller by such rows, an error about public rows that never reveals a withheld one.
* **Between releases.** A sealed figure never changes, so two releases never differ on a row
  both of them hold, and a row of the earlier one is never missing from the later one.
  `sealed_changes` lists the primary keys where they do.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from openbeat.aggregate.periods import is_late

logger = logging.getLogger(__name__)

CITYWIDE = "(citywide)"


def withheld_differences(
    counts: Iterable[Mapping[str, Any]],
    incidents: Iterable[Mapping[str, Any]],
    *,
    k: int,
    settle_days: int,
) -> list[tuple[tuple[date, str, str], int]]:
    """Cells whose count minus covered public rows is in 1..k-1 or negative, with that value."""
    rows: Counter[tuple[date, str, str]] = Counter()
    for row in incidents:
        if row.get("withdrawn"):
            continue
        if is_late(row["occurred_date"], row["reported_date"], settle_days):
            continue
        rows[(row["occurred_date"], row["district"], row["category"])] += 1
    bad: list[tuple[tuple[date, str, str], int]] = []
    for cell in counts:
        if cell["district"] == CITYWIDE or cell["count"] is None:
            continue
        key = (cell["date"], cell["district"], cell["category"])
        difference = int(cell["count"]) - rows.get(key, 0)
        if difference < 0 or 0 < difference < k:
            bad.append((key, difference))
    if bad:
        logger.warning("count minus rows reveals withheld incidents in %d cells", len(bad))
    return bad


def sealed_changes(
    previous: Iterable[Mapping[str, Any]],
    current: Iterable[Mapping[str, Any]],
    key_columns: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Primary keys of rows of `previous` that `current` changed or dropped."""
    now = {tuple(row[c] for c in key_columns): dict(row) for row in current}
    changed = []
    for row in previous:
        key = tuple(row[c] for c in key_columns)
        if now.get(key) != dict(row):
            changed.append(key)
    return changed
