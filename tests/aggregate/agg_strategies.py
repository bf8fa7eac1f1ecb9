"""Hypothesis strategies and an independent oracle for the aggregate tests.

Incidents are generated as histories (revision 1..n of one source incident, each public or
withheld, each with its own cell) and turned into the records the anonymizer emits: each revision
on its own channel, plus a `withdrawn` marker on the other channel whenever visibility flips. The
oracle reads the truth straight from the histories' last revisions, not from the records.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from openbeat.aggregate.state import PUBLIC_INCIDENTS, WITHHELD_INCIDENTS

BASE_DAY = date(2026, 3, 1)
Cell = tuple[date, str, str]


@dataclass(frozen=True)
class Version:
    public: bool
    cell: Cell


@dataclass(frozen=True)
class History:
    public_id: str
    versions: tuple[Version, ...]


def cells(days: int = 3, districts: int = 2, categories: int = 3) -> st.SearchStrategy[Cell]:
    return st.tuples(
        st.integers(0, days - 1).map(lambda n: BASE_DAY + timedelta(days=n)),
        st.sampled_from([f"D{i}" for i in range(1, districts + 1)]),
        st.sampled_from([f"cat{i}" for i in range(categories)]),
    )


def histories(
    max_incidents: int = 60, withheld_share: float = 0.4, **cell_args: int
) -> st.SearchStrategy[list[History]]:
    version = st.builds(
        Version,
        public=st.floats(0, 1).map(lambda x: x >= withheld_share),
        cell=cells(**cell_args),
    )
    return st.lists(
        st.lists(version, min_size=1, max_size=3).map(tuple), max_size=max_incidents
    ).map(lambda runs: [History(f"pid{i:04d}", run) for i, run in enumerate(runs)])


def incident_record(public_id: str, revision: int, cell: Cell, withdrawn: bool) -> dict[str, Any]:
    day, district, category = cell
    return {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": withdrawn,
        "category": category,
        "offense_code": "13A",
        "reported_date": day,
        "occurred_date": day,
        "district": district,
    }


def records(histories: list[History]) -> list[tuple[str, dict[str, Any]]]:
    """What the anonymizer emits for these histories, in emission order."""
    out: list[tuple[str, dict[str, Any]]] = []
    for history in histories:
        previous: Version | None = None
        for revision, version in enumerate(history.versions, start=1):
            channel = PUBLIC_INCIDENTS if version.public else WITHHELD_INCIDENTS
            out.append((channel, incident_record(history.public_id, revision, version.cell, False)))
            if previous is not None and previous.public != version.public:
                other = WITHHELD_INCIDENTS if version.public else PUBLIC_INCIDENTS
                marker = incident_record(history.public_id, revision, version.cell, True)
                out.append((other, marker))
            previous = version
    return out


def truth(histories: list[History]) -> tuple[Counter[Cell], Counter[Cell]]:
    """(public, withheld) incidents per cell, from each incident's last revision."""
    public: Counter[Cell] = Counter()
    withheld: Counter[Cell] = Counter()
    for history in histories:
        last = history.versions[-1]
        (public if last.public else withheld)[last.cell] += 1
    return public, withheld


def reader_options(hidden: list[int], k: int, floor: int) -> list[set[int]]:
    """Every value each hidden cell could take, found by trying every assignment.

    The reader knows the hidden sum (total minus published cells) and, at worst, which hidden
    cells are small ([floor, k-1]) and which were hidden to protect them ([k, hidden sum]).
    """
    hidden_sum = sum(hidden)
    ranges = [range(floor, k) if v < k else range(k, hidden_sum + 1) for v in hidden]
    options: list[set[int]] = [set() for _ in hidden]
    for combo in itertools.product(*ranges):
        if sum(combo) == hidden_sum:
            for i, v in enumerate(combo):
                options[i].add(v)
    return options
