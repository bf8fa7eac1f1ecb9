"""The latest-revision rule in bounded memory: for any staged records, in any order and however
many runs they are sorted in, each public id yields its highest-ranked record, and a withdrawn
winner hides every earlier revision (an earlier revision coming back would republish an
incident the policy withdrew)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from release_inputs import incident_row

from openbeat.releases import latest, sorting
from openbeat.releases.datasets import INCIDENTS
from openbeat.releases.latest import latest_rows, rank
from openbeat.releases.staging import StagedRecord

TOPICS = ("city.public.incidents", "city.public.incidents-v2")

_staged = st.lists(
    st.tuples(
        st.integers(0, 4),  # which public id
        st.integers(0, 3),  # revision
        st.sampled_from(TOPICS),
        st.integers(0, 2),  # partition
        st.booleans(),  # withdrawn
    ),
    max_size=60,
)


def _records(draws: list[tuple[int, int, str, int, bool]]) -> list[StagedRecord]:
    items = []
    for offset, (who, revision, topic, partition, withdrawn) in enumerate(draws):
        record = incident_row(who, status=f"status-{offset}")  # status tells records apart
        record.update(revision=revision, withdrawn=withdrawn)
        items.append(StagedRecord(topic, partition, offset, record))
    return items


def _expected(items: list[StagedRecord]) -> dict[str, str]:
    """The rule stated directly: the greatest rank per id wins; a withdrawn winner shows none."""
    best: dict[str, StagedRecord] = {}
    for item in items:
        public_id = item.record["public_id"]
        if public_id not in best or rank(item) > rank(best[public_id]):
            best[public_id] = item
    return {k: v.record["status"] for k, v in best.items() if not v.record["withdrawn"]}


@settings(max_examples=150, deadline=None)
@given(draws=_staged, reverse=st.booleans())
def test_each_id_yields_its_latest_revision_in_any_order_and_run_size(
    tmp_path_factory: pytest.TempPathFactory, draws: list, reverse: bool
) -> None:
    items = _records(draws)
    ordered = items[::-1] if reverse else items
    with pytest.MonkeyPatch.context() as patch:
        # A few records per conversion and a run per conversion: many runs to merge.
        patch.setattr(latest, "CONVERT_RECORDS", 3)
        patch.setattr(latest, "OUT_ROWS", 2)
        patch.setattr(sorting, "RUN_BYTES", 1)
        workdir = tmp_path_factory.mktemp("latest")
        rows = list(latest_rows(INCIDENTS, ordered, lambda r: bool(r["withdrawn"]), workdir))
    assert {row["public_id"]: row["status"] for row in rows} == _expected(items)
    assert len(rows) == len({row["public_id"] for row in rows}), "one row per public id"
    assert all(set(row) == set(INCIDENTS.column_names) for row in rows)


def test_a_value_that_does_not_fit_names_its_column(tmp_path: Path) -> None:
    record = incident_row(1, offense_count="many")
    with pytest.raises(latest.RecordError, match="offense_count"):
        list(latest_rows(INCIDENTS, [StagedRecord(TOPICS[0], 0, 0, record)], lambda r: False))
