"""Subtraction attacks on the scenario's two releases (issue 9, items 2 and 8).

Each was measured against the code before sealing and succeeded there:
* 5 -> 6: the D1 theft cell of DAY held 5 confidential incidents; a sixth arrives after
  release 1. Recomputed counts went from 12 to 13 with the same public rows: one new withheld
  incident, located. Sealed, the cell is the same in both releases.
* 0 -> 5: the D2 theft cell's 2 juvenile incidents were moved to the citywide row; 3 more
  arrive. Recomputed, the cell's withheld part became 5 (shown in the cell) while the citywide
  row of the day vanished, placing the earlier 2. Sealed, nothing changes.
* 6 x 3.17 - 18: D3's survey week showed 5 responses; a sixth arrives. Recomputed, the mean
  moved and gave one person's answer away. Sealed, the week is the same.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from scenario import DAY, Scenario, public_id

from cli_helpers import run_cli
from openbeat.aggregate.differencing import sealed_changes, withheld_differences
from openbeat.contracts.offenses import load_offense_table
from openbeat.privacy.policy import load_policy
from openbeat.releases.checks import CheckRules
from openbeat.releases.datasets import DATASETS
from openbeat.releases.gate import Peers, ReleaseView
from openbeat.releases.gate_rules import sealed_figures_unchanged

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]
POLICY = load_policy()
AGGREGATES = (
    "incident-counts",
    "incident-counts-weekly",
    "incident-counts-monthly",
    "engagement-summary",
)


def _cell(rows: list[dict[str, Any]], district: str, category: str) -> dict[str, Any]:
    [row] = [
        r for r in rows if (r["date"], r["district"], r["category"]) == (DAY, district, category)
    ]
    return row


def test_no_sealed_figure_changes_between_the_two_releases(scenario: Scenario) -> None:
    for dataset in AGGREGATES:
        first, second = scenario.first.rows[dataset], scenario.second.rows[dataset]
        key = DATASETS[dataset].primary_key
        assert sealed_changes(first, second, key) == [], dataset
    counts = scenario.first.rows["incident-counts"]
    # The scenario really is the attack: DAY is published and its cells hold withheld incidents.
    # 6 public, 3 public that will leave, 6 confidential (one of them never public).
    assert _cell(counts, "D1", "theft")["count"] == 6 + 3 + 6
    assert _cell(counts, "D2", "theft")["suppressed"] is True  # 1 public row, below k
    assert _cell(counts, "(citywide)", "(withheld)")["suppressed"] is True  # 2 moved, below k


def test_count_minus_rows_reveals_nothing_in_either_release(scenario: Scenario) -> None:
    k, settle = POLICY.k, POLICY.settle_days
    first_rows = scenario.first.rows["incidents"]
    assert (
        withheld_differences(
            scenario.first.rows["incident-counts"], first_rows, k=k, settle_days=settle
        )
        == []
    )
    # A reader of release 2 also holds the rows removed since (they were public): a sealed count
    # keeps counting them.
    second_ids = {r["public_id"] for r in scenario.second.rows["incidents"]}
    removed = [r for r in first_rows if r["public_id"] not in second_ids]
    assert {r["public_id"] for r in removed} == {
        public_id(f"leaves-{reason}") for reason in ("withheld", "unfounded", "juvenile")
    }
    assert (
        withheld_differences(
            scenario.second.rows["incident-counts"],
            [*scenario.second.rows["incidents"], *removed],
            k=k,
            settle_days=settle,
        )
        == []
    )


def test_a_late_row_is_published_but_not_counted(scenario: Scenario) -> None:
    rows = scenario.second.rows["incidents"]
    assert public_id("late") in {r["public_id"] for r in rows}
    covered = Counter(
        (r["occurred_date"], r["district"], r["category"])
        for r in rows
        if (r["reported_date"] - r["occurred_date"]).days <= POLICY.settle_days
    )
    # 6 public thefts still shown + 6 confidential; the 3 that left are counted, the late not.
    assert _cell(scenario.second.rows["incident-counts"], "D1", "theft")["count"] == 15
    assert covered[(DAY, "D1", "theft")] == 6


def test_survey_week_is_published_once_and_never_moves(scenario: Scenario) -> None:
    week = f"{DAY.isocalendar()[0]}-W{DAY.isocalendar()[1]:02d}"
    first = [r for r in scenario.first.rows["engagement-summary"] if r["iso_week"] == week]
    second = [r for r in scenario.second.rows["engagement-summary"] if r["iso_week"] == week]
    assert first and first == second
    [d3] = [r for r in first if r["district"] == "D3"]
    assert d3["survey_responses"] in (None, 5)  # the sixth answer, late, is not in it


def test_verify_with_previous_passes_the_two_real_releases(scenario: Scenario) -> None:
    """The release gate has no false positive on a real pipeline's two releases (withdrawals,
    late rows, sealed days): every release after the first is compared with the one before."""
    releases = scenario.root / "datasets" / "incidents" / "releases"
    first = min(p.name for p in releases.iterdir())
    result = run_cli(scenario.env, "verify", str(scenario.root), "--previous", first, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "verify OK" in result.stdout


def test_the_gate_refuses_a_recomputed_sealed_cell(scenario: Scenario) -> None:
    """The 5 -> 6 attack as a release would carry it: the gate's sealed-figure rule (the
    publisher's and verify's) refuses the release that moved the cell."""
    counts = scenario.first.rows["incident-counts"]
    moved = [dict(row) for row in counts]
    _cell(moved, "D1", "theft")["count"] += 1
    previous = ReleaseView("incident-counts", "r1", {}, _rows=counts)
    current = ReleaseView("incident-counts", "r2", {}, _rows=moved)
    rules = CheckRules(POLICY, load_offense_table(), ZoneInfo("UTC"))
    assert list(sealed_figures_unchanged(current, Peers({}, previous), rules)) != []
    same = ReleaseView("incident-counts", "r2", {}, _rows=scenario.second.rows["incident-counts"])
    assert list(sealed_figures_unchanged(same, Peers({}, previous), rules)) == []
