"""Aggregates and row-level datasets cut at one cutoff agree: whatever the aggregator has seen,
"cell count minus the public rows in that cell" is only ever the withheld part (0 or >= k)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from openbeat.aggregate.state import AggregateState
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.pipeline.aggregator import CHECKPOINT_KEY, channel_aliases
from openbeat.pipeline.releasing import Releaser
from openbeat.privacy.policy import load_policy
from openbeat.privacy.pseudonym import key_id
from openbeat.releases import stage_part
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

NAMES = TopicNames("unitrel")
DAY = date(2026, 11, 20)
# Publication delay (7 days) plus the settle delay (7 days) after DAY is over.
CUTOFF = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _incident(n: int, category: str = "theft", district: str = "D1") -> dict[str, Any]:
    return {
        "public_id": f"{n:032x}",
        "revision": 1,
        "withdrawn": False,
        "category": category,
        "offense_code": "23H",
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": DAY,
        "occurred_date": DAY,
        "occurred_hour": datetime(2026, 11, 20, 9, tzinfo=UTC),
        "block": "012XX W MAIN ST",
        "district": district,
        "latitude": None,
        "longitude": None,
        "location_precision": "block",
        "status": "open",
    }


def _withheld(n: int, category: str = "theft", district: str = "D1") -> dict[str, Any]:
    return {
        "public_id": f"w{n:031x}",
        "revision": 1,
        "withdrawn": False,
        "category": category,
        "occurred_date": DAY,
        "district": district,
    }


def test_aggregates_count_exactly_the_staged_public_rows(tmp_path: Path) -> None:
    store, private = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "private", True)
    staged = [_incident(i) for i in range(6)] + [_incident(100 + i, "assault") for i in range(7)]
    stage_part(
        private, "incidents", NAMES.public("incident"), 0, 0, len(staged) - 1, enumerate(staged)
    )
    # The aggregator is ahead of the publisher (two public thefts not staged yet) and has seen
    # two withheld thefts and five withheld assaults.
    state = AggregateState(aliases=channel_aliases(NAMES))
    for record in [*staged, _incident(50), _incident(51)]:
        state.add(NAMES.public("incident"), record)
    for record in [_withheld(1), _withheld(2), *(_withheld(10 + i, "assault") for i in range(5))]:
        state.add(NAMES.withheld_incidents, record)
    private.put(CHECKPOINT_KEY, state.to_bytes(), "application/json")
    releaser = Releaser(
        store=store,
        private=private,
        names=NAMES,
        jurisdiction=load_jurisdiction("sample"),
        policy=load_policy(),
        base_url="https://data.example.org",
        license_url=None,
        pseudonym_key_id=key_id(b"a-secret-pseudonym-key-for-tests"),
    )

    results = releaser.cut(["incidents", "incident-counts"], CUTOFF)

    assert all(r.ok for r in results), [r.errors for r in results]
    rows = pq.read_table(next(tmp_path.glob("store/datasets/incidents/releases/*/data/*.parquet")))
    counts = pq.read_table(
        next(tmp_path.glob("store/datasets/incident-counts/releases/*/data/*.parquet"))
    ).to_pylist()
    public = Counter((r["occurred_date"], r["district"], r["category"]) for r in rows.to_pylist())
    cells = {(c["date"], c["district"], c["category"]): c for c in counts}
    k = load_policy().k
    for key, cell in cells.items():
        if cell["count"] is None or key[1] not in {"D1", "D2", "D3", "D4", "D5", "D6"}:
            continue
        difference = cell["count"] - public[key]
        assert difference == 0 or difference >= k, (key, cell, public[key])
    # Thefts: 6 staged public, the 2 unstaged ignored, the 2 withheld moved out of the cell.
    assert cells[(DAY, "D1", "theft")]["count"] == 6
    # Assaults: 7 public + 5 withheld (k or more: the withheld part stays in the cell).
    assert cells[(DAY, "D1", "assault")]["count"] == 12
