"""The fast CSV encoder writes exactly what Python's csv module writes for the documented format:
a portal parsing the file with any RFC 4180 reader gets the values the Parquet file holds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.releases import tabular

TEXT = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab ,\"\r\n;é\t'x")), max_size=8),
    st.text(max_size=5),
)
SCHEMA = pa.schema(
    [
        ("s", pa.string()),
        ("l", pa.list_(pa.string())),
        ("f", pa.float64()),
        ("b", pa.bool_()),
        ("d", pa.date32()),
        ("t", pa.timestamp("ms", tz="UTC")),
        ("i", pa.int64()),
    ]
)
ROW = st.fixed_dictionaries(
    {
        "s": TEXT,
        "l": st.one_of(
            st.none(), st.lists(TEXT.filter(lambda v: v is not None) | st.none(), max_size=3)
        ),
        "f": st.one_of(st.none(), st.floats(allow_nan=True)),
        "b": st.one_of(st.none(), st.booleans()),
        "d": st.one_of(st.none(), st.dates(min_value=date(1, 1, 1))),
        "t": st.one_of(
            st.none(),
            st.datetimes(
                min_value=datetime(1971, 1, 1),
                max_value=datetime(2100, 1, 1),
                timezones=st.just(UTC),
            ),
        ),
        "i": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=30), st.integers(0, 5))
def test_csv_bytes_equal_the_csv_module_on_the_same_cells(rows: list[dict], cut: int) -> None:
    batch = pa.Table.from_pylist(rows, schema=SCHEMA)
    batch = batch.slice(min(cut, len(rows) - 1))  # slices with non-zero offsets too

    encoded = b"".join(bytes(m) for m in tabular.csv_records(batch))

    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(tabular.csv_rows(batch))
    assert encoded == expected.getvalue().encode()
    parsed = list(csv.reader(io.StringIO(encoded.decode(), newline="")))
    assert parsed == [list(r) for r in tabular.csv_rows(batch)]
