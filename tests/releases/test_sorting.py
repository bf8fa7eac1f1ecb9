"""Sorted runs and their merge give exactly the order of one stable sort, whatever the run size.

A release bigger than one run is sorted by spilling runs and merging them; its bytes must be
those of the in-memory sort, or two cuts of the same data would publish different files.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from hypothesis import example, given, settings
from hypothesis import strategies as st

from openbeat.releases.datasets import DATASETS
from openbeat.releases.sorting import SortedRows
from openbeat.releases.tabular import write_tables

SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("at", pa.timestamp("s", tz="UTC")),
        pa.field("score", pa.float64()),
        pa.field("name", pa.string()),
        pa.field("seq", pa.int64()),  # input position: shows whether ties kept their order
    ]
)
KEYS = ("day", "at", "score", "name")

_rows = st.lists(
    st.fixed_dictionaries(
        {
            # Few distinct values so that ties (and ties on every key) are common.
            "day": st.none() | st.sampled_from([date(2026, 1, 2), date(2025, 12, 31)]),
            "at": st.none() | st.just(datetime(2026, 1, 1, 5, tzinfo=UTC)),
            "score": st.none() | st.sampled_from([-1.5, 2.0, float("nan")]),
            # Arrow orders UTF-8 bytes, the merge Python code points: the same order.
            "name": st.none() | st.sampled_from(["é", "f"]),
        }
    ),
    max_size=120,
)


def _batches(rows: list[dict], size: int) -> list[pa.RecordBatch]:
    for seq, row in enumerate(rows):
        row["seq"] = seq
    return [
        pa.RecordBatch.from_pylist(rows[i : i + size], schema=SCHEMA)
        for i in range(0, len(rows), size)
    ]


def _one_sort(rows: list[dict]) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    order = pc.sort_indices(table, sort_keys=[(k, "ascending", "at_end") for k in KEYS])
    return pc.take(table, order)


_TIE = {"day": date(2026, 1, 2), "at": None, "score": 2.0, "name": "f"}


@settings(max_examples=300, deadline=None)
# Equal keys split across a run's blocks: the later run's equal rows must wait for them.
@example(rows=[dict(_TIE) for _ in range(3)], batch=2, block=1, out=10)
@given(rows=_rows, batch=st.integers(1, 9), block=st.integers(1, 7), out=st.integers(1, 11))
def test_many_small_runs_merge_to_the_order_of_one_stable_sort(
    tmp_path_factory, rows: list[dict], batch: int, block: int, out: int
) -> None:
    workdir = tmp_path_factory.mktemp("runs")
    ordered = SortedRows(SCHEMA, KEYS, workdir, run_bytes=1, block_rows=block)  # a run per batch
    for piece in _batches(rows, batch):
        ordered.add(piece)
    parts = list(ordered.tables(out))
    assert all(len(p) == out for p in parts[:-1])
    merged = pa.concat_tables(parts) if parts else SCHEMA.empty_table()
    # seq is each row's input position: equal sequences mean the same rows in the same order.
    assert merged.column("seq").to_pylist() == _one_sort(rows).column("seq").to_pylist()
    assert not list(workdir.iterdir()), "run files are removed after the merge"


def _value(t: pa.DataType, i: int, n: int) -> object:
    """A value of type `t` for row `i`: many rows a day, ids in shuffled order (as a backfill)."""
    if pa.types.is_timestamp(t):
        return datetime(2026, 1, 1 + (i * 31) % 28, i % 24, tzinfo=UTC if t.tz else None)
    if pa.types.is_date(t):
        return date(2026, 1, 1 + (i * 31) % 28)
    if pa.types.is_integer(t):
        return i % 5 + 1
    if pa.types.is_floating(t):
        return 41.8 + (i % 97) / 1000
    if pa.types.is_boolean(t):
        return i % 3 == 0
    if pa.types.is_list(t):
        return ["x", "y"][: i % 3]
    return f"{(i * 7919) % n:08x}"


def _incident_rows(n: int) -> list[dict]:
    columns = DATASETS["incidents"].columns
    return [{c.name: _value(c.type, i, n) for c in columns} for i in range(n)]


def test_a_release_spilled_in_runs_has_the_bytes_of_one_sorted_in_memory(tmp_path: Path) -> None:
    spec = DATASETS["incidents"]
    rows = _incident_rows(5000)
    made = {}
    for name, run_bytes in (("memory", 1 << 40), ("runs", 64 * 1024)):
        work = tmp_path / name
        work.mkdir()
        made[name] = write_tables(spec, rows, work, {"k": "v"}, batch_rows=700, run_bytes=run_bytes)
    memory, runs = made["memory"], made["runs"]
    assert pq.ParquetFile(runs.parquet_path).metadata.num_row_groups == 8  # 5000 rows in 700s
    assert runs.parquet_path.read_bytes() == memory.parquet_path.read_bytes()
    assert runs.csv_path.read_bytes() == memory.csv_path.read_bytes()
    assert (runs.rows, runs.time_min, runs.time_max, runs.csv_digest) == (
        memory.rows,
        memory.time_min,
        memory.time_max,
        memory.csv_digest,
    )
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["data.csv", "data.parquet"]
