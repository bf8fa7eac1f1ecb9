"""List cells as JSON-array text for CSV (`["a", "b"]`, `[]`), by Arrow kernels.

The text is exactly `json.dumps(value, ensure_ascii=False)` of the cell's Python list, the
rule the CSV conventions name: items of strings quoted with `\\` and `"` escaped and the short
escapes for \\n \\r \\t \\b \\f, null items as `null`, ", " between items. Incidents carry a list
column (offense_codes) on every row, so a million-row release would spend seconds in a Python
loop here; kernels do it in C++. A value holding another control character (which JSON writes
as \\u00XX), or a list of anything but strings, goes through `json.dumps` per cell: the same
text, only slower.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

_ESCAPES = (
    ("\\", "\\\\"),  # first: the backslashes the other escapes add are not doubled
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\x08", "\\b"),
    ("\x0c", "\\f"),
)
_OTHER_CONTROL = r"[\x00-\x1f]"


def json_lists(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each list cell of `column` as its JSON text; a null cell stays null."""
    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([json_lists(c) for c in column.chunks], type=pa.string())
    if pa.types.is_string(column.type.value_type):
        text = _string_lists(column)
        if text is not None:
            return text
    return pa.array(
        [None if v is None else json.dumps(v, ensure_ascii=False) for v in column.to_pylist()],
        type=pa.string(),
    )


def _string_lists(column: pa.Array) -> pa.Array | None:
    """The kernels' path for lists of strings; None when a value needs the Python path."""
    starts = column.offsets
    items = column.flatten()
    escaped = items
    for raw, escape in _ESCAPES:
        escaped = pc.replace_substring(escaped, raw, escape)
    if len(escaped) and pc.any(pc.match_substring_regex(escaped, _OTHER_CONTROL)).as_py():
        return None
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    quoted = pc.fill_null(quoted, "null")
    offsets = pc.subtract(starts, starts[0])
    lists = pa.ListArray.from_arrays(offsets, quoted, mask=column.is_null())
    joined = pc.binary_join(lists, ", ")
    return pc.binary_join_element_wise("[", joined, "]", "")
