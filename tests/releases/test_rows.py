"""The as-of-cutoff rule has a row form (the gate, tests) and a table form (the releaser's
Arrow path); both must keep exactly the same rows, or a release would publish rows its own
gate calls too young (or silently drop publishable ones)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.privacy.policy import load_policy
from openbeat.releases.datasets import COMMUNITY_REPORTS, ENGAGEMENT_EVENTS, INCIDENTS
from openbeat.releases.rows import publishable_mask, publishable_test

ZONE = ZoneInfo("America/Chicago")
CUTOFF = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
_days = st.integers(-20, 20).map(lambda d: date(2026, 11, 18) + timedelta(days=d))
_hours = st.integers(-600, 600).map(
    lambda h: datetime(2026, 11, 18, tzinfo=UTC) + timedelta(hours=h)
)


def _table(spec, column: str, values: list) -> pa.Table:
    return pa.table({column: pa.array(values, type=spec.arrow_schema().field(column).type)})


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(_days, max_size=40),
    hours=st.lists(_hours, max_size=40),
    shift=st.integers(-50, 50),
)
def test_the_table_form_keeps_exactly_the_rows_the_row_form_keeps(
    days: list[date], hours: list[datetime], shift: int
) -> None:
    policy = load_policy()
    cutoff = CUTOFF + timedelta(hours=shift)
    for spec, column, values in (
        (INCIDENTS, "reported_date", days),
        (COMMUNITY_REPORTS, "submitted_hour", hours),
        (ENGAGEMENT_EVENTS, "starts_at", hours),
    ):
        test = publishable_test(spec.name, policy, cutoff, ZONE)
        mask = publishable_mask(spec.name, policy, cutoff, ZONE)(_table(spec, column, values))
        kept = [True] * len(values) if mask is None else mask.to_pylist()
        assert kept == [test({column: v}) for v in values], spec.name
