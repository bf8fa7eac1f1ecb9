"""Small-cell and complementary suppression for groups of cells with a published total.

SPEC 4: any published count based on fewer than k records is suppressed, and a suppressed cell
cannot be recovered by subtracting from totals. Primary suppression hides every cell below k.
When a group's total is published as well, the hidden cells together are known exactly
(total - published cells), so complementary suppression hides more cells until no hidden cell
is pinned down.

The reader we defend against knows the published total, every published cell, the rule, and,
pessimistically, which hidden cells were hidden for being small (value in [floor, k-1]) and which
were hidden to protect them (value >= k). `floor` is the smallest value a hidden cell may have:
1 where empty cells have no row (their absence already says 0), 0 where every cell of the grid
has a row. The group is protected when
- there are no hidden cells, or
- there are at least two, no hidden cell's value is determined by the others' bounds and the
  hidden sum, and the hidden sum is at least k (so a mean over the hidden cells together, which a
  reader can derive from a published mean of the total, still rests on k or more records).
Cells are added smallest first (the cheapest loss of information, as tau-argus does by default);
if every cell is hidden and the group is still not protected, the total is withheld instead.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Hashable, Mapping
from typing import TypeVar

logger = logging.getLogger(__name__)

Cell = TypeVar("Cell", bound=Hashable)


def deducible_ranges(
    values: Mapping[Cell, int], hidden: Collection[Cell], *, k: int, floor: int
) -> dict[Cell, tuple[int, int]]:
    """The tightest [min, max] a reader can deduce for each hidden cell of a group.

    The reader knows hidden_sum = total - published and each hidden cell's bounds: [floor, k-1]
    for a small cell, [k, hidden_sum] for one hidden to protect another. With integer bounds and
    one sum constraint the interval from the other cells' bounds is exact (every integer in it is
    reachable), so a cell is determined exactly when its interval has one value.
    """
    hidden_sum = sum(values[cell] for cell in hidden)
    bounds = {cell: (floor, k - 1) if values[cell] < k else (k, hidden_sum) for cell in hidden}
    low_sum = sum(low for low, _ in bounds.values())
    high_sum = sum(high for _, high in bounds.values())
    ranges = {}
    for cell, (low, high) in bounds.items():
        others_low, others_high = low_sum - low, high_sum - high
        ranges[cell] = (max(low, hidden_sum - others_high), min(high, hidden_sum - others_low))
    return ranges


def is_protected(
    values: Mapping[Cell, int], hidden: Collection[Cell], *, k: int, floor: int
) -> bool:
    """Whether a group with a published total leaks nothing about its hidden cells (see module)."""
    if not hidden:
        return True
    if len(hidden) < 2 or sum(values[cell] for cell in hidden) < k:
        return False
    ranges = deducible_ranges(values, hidden, k=k, floor=floor)
    return all(low < high for low, high in ranges.values())


def protect_group(
    values: Mapping[Cell, int], *, k: int, floor: int
) -> tuple[frozenset[Cell], bool]:
    """Which cells of a group to suppress, and whether its total may be published.

    Returns (suppressed cells, total_published). The total is suppressed when it is below k
    itself, or when hiding every cell still would not protect the small ones.
    """
    hidden = {cell for cell, value in values.items() if value < k}
    if sum(values.values()) < k:
        return frozenset(hidden), False
    if not hidden:
        return frozenset(), True
    candidates = sorted((cell for cell in values if cell not in hidden), key=lambda c: values[c])
    while not is_protected(values, hidden, k=k, floor=floor):
        if not candidates:
            small = frozenset(cell for cell, value in values.items() if value < k)
            return small, False
        hidden.add(candidates.pop(0))
    return frozenset(hidden), True
