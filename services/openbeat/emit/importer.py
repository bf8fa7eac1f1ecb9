"""File import: CSV or JSON Lines rows in, checked input records (or reasons) out.

Pure iteration, no Kafka: the producer shell turns `ImportResult`s into messages and a report.
Each row is converted by a column mapping (`openbeat.emit.mapping`), completed and type-checked
against the kind's Avro schema (`openbeat.emit.shape`), then checked by the same semantic
validation the services run (`openbeat.contracts.validation`), so an agency learns at import time
what the pipeline would dead-letter. JSON Lines whose objects already use the schema's field
names need no mapping.

Problems with the whole import (missing file, bad mapping, a column the file lacks) raise one
`ImportError_` before any row is produced; problems with one row are a rejected `ImportResult`
carrying the row's line number, so nothing is dropped silently.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.emit.mapping import KINDS, Mapping, MappingError, RowError, apply_rule, load_mapping
from openbeat.emit.shape import build_record, check_shape, field_names, required_fields

logger = logging.getLogger(__name__)

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
# Rows are a few hundred bytes; a larger field is a broken file (an unclosed quote swallowing the
# rest of it), which should fail as such instead of exhausting memory.
csv.field_size_limit(16 * 1024 * 1024)


class ImportError_(ValueError):
    """The import as a whole cannot run; the message names the file, column or key and the fix.

    (Trailing underscore: the builtin ImportError means something else entirely.)
    """


@dataclass(frozen=True, slots=True)
class ImportResult:
    """One source row: `record` when it converted and validated, else `code` and `reason`."""

    line: int
    record: dict[str, Any] | None = None
    code: str | None = None
    field: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.record is not None


def file_format(path: Path, mapping: Mapping | None = None) -> str:
    """`csv` or `jsonl`, from the mapping, else the file name, else the first character."""
    if mapping is not None and mapping.format is not None:
        return mapping.format
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return "jsonl"
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        head = handle.read(512).lstrip()
    return "jsonl" if head.startswith("{") else "csv"


def iter_rows(path: str | Path, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line where the row starts, row) for every data row; the CSV header is line 1.

    A CSV row with a different number of cells than the header, or a JSON line that is not an
    object, is yielded as a row holding only the key `__error__` so the caller can reject it
    with its line number.
    """
    path = Path(path)
    fmt = fmt or file_format(path)
    try:
        if fmt == "jsonl":
            yield from _jsonl_rows(path)
        else:
            yield from _csv_rows(path)
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{path}: not UTF-8 text ({exc.reason}); re-export it as UTF-8") from exc


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        last_line = reader.line_num
        for cells in reader:
            start, last_line = last_line + 1, reader.line_num
            if not cells or cells == [""]:
                continue
            if len(cells) != len(header):
                message = f"row has {len(cells)} cells but the header has {len(header)}"
                yield start, {"__error__": message}
                continue
            yield start, dict(zip(header, cells, strict=True))


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("r", encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"not valid JSON: {exc.msg} at column {exc.colno}"}
                continue
            if not isinstance(obj, dict):
                yield number, {"__error__": "a JSON line must be an object"}
                continue
            yield number, obj


def csv_header(path: Path) -> list[str]:
    """The stripped column names of a CSV file's first line."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        return [h.strip() for h in next(csv.reader(handle), [])]


def convert(
    row: dict[str, Any], mapping: Mapping | None, jurisdiction: Jurisdiction, kind: str = ""
) -> dict[str, Any]:
    """One source row as a schema-shaped record of `kind` (default: the mapping's kind).

    Without a mapping the row must already use the schema's field names (JSON Lines). Raises
    `RowError` for a value that cannot be converted or a missing required field.
    """
    if "__error__" in row:
        raise RowError("bad_row", "", str(row["__error__"]))
    if mapping is None:
        if not kind:
            raise ValueError("convert() without a mapping needs the kind")
        return check_shape(kind, row)
    flat = {
        name: apply_rule(rule, row, mapping, jurisdiction, name)
        for name, rule in mapping.fields.items()
    }
    return build_record(kind or mapping.kind, flat)


def check_mapping(mapping: Mapping, kind: str) -> None:
    """Refuse a mapping that cannot produce `kind` records at all (before reading any row)."""
    if mapping.kind != kind:
        raise ImportError_(
            f"mapping {mapping.source} produces {mapping.kind} records, not {kind}; "
            f"pass --kind {mapping.kind} or another --mapping"
        )
    known = set(field_names(kind))
    for name in mapping.fields:
        if name not in known:
            raise ImportError_(
                f"mapping {mapping.source}: key fields.{name}: {kind} has no field {name!r} "
                f"(fields: {', '.join(sorted(known))})"
            )
    missing = [f for f in required_fields(kind) if f not in mapping.fields]
    if missing:
        raise ImportError_(
            f"mapping {mapping.source} does not set required field(s) {', '.join(missing)}; "
            f"add [fields.{missing[0]}] with a column or a const"
        )


def check_columns(path: Path, mapping: Mapping) -> None:
    """Every column the mapping needs is in the CSV header; else one error naming them all."""
    header = set(csv_header(path))
    missing = {c: f for c, f in mapping.required_columns().items() if c not in header}
    if missing:
        named = ", ".join(f"{c!r} (for fields.{f})" for c, f in missing.items())
        raise ImportError_(
            f"{path}: no column {named} that mapping {mapping.source} reads; fix the mapping "
            f"or mark the rule optional = true. Columns in the file: {', '.join(sorted(header))}"
        )


def load_import_mapping(path: str | Path | None, kind: str) -> Mapping | None:
    """The mapping file for importing `kind` records, checked against the schema; None for none."""
    if path is None:
        return None
    try:
        mapping = load_mapping(path)
    except MappingError as exc:
        raise ImportError_(str(exc)) from exc
    check_mapping(mapping, kind)
    return mapping


def count_rows(path: str | Path) -> int:
    """How many rows `iter_rows` will yield (for a progress bar); one cheap pass over the file."""
    return sum(1 for _ in iter_rows(path))


def open_import(
    path: str | Path, kind: str, mapping: Mapping | str | Path | None
) -> tuple[Path, Mapping | None, str]:
    """Check everything that concerns the whole import; (path, mapping, format) or ImportError_."""
    path = Path(path)
    if kind not in KINDS:
        raise ImportError_(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not path.is_file():
        raise ImportError_(f"input file {path} not found (or not a file); check the path")
    if mapping is not None and not isinstance(mapping, Mapping):
        try:
            mapping = load_mapping(mapping)
        except MappingError as exc:
            raise ImportError_(str(exc)) from exc
    fmt = file_format(path, mapping)
    if mapping is None:
        if fmt == "csv":
            raise ImportError_(
                f"{path}: a CSV file needs --mapping (a TOML column mapping, see "
                "infra/mappings/); only JSON Lines with the schema's field names can go without"
            )
    else:
        check_mapping(mapping, kind)
        if fmt == "csv":
            check_columns(path, mapping)
    return path, mapping, fmt


def import_file(
    path: str | Path,
    kind: str,
    mapping: Mapping | str | Path | None,
    jurisdiction: Jurisdiction,
    validation_ctx: Any,
) -> Iterator[ImportResult]:
    """Every row of `path` as an ok or rejected `ImportResult`, in file order.

    The whole-file checks run when this is called, not on first iteration, so a bad path or
    mapping fails at once with `ImportError_`.
    """
    path, loaded, fmt = open_import(path, kind, mapping)
    return _results(path, kind, loaded, fmt, jurisdiction, validation_ctx)


def _results(
    path: Path,
    kind: str,
    mapping: Mapping | None,
    fmt: str,
    jurisdiction: Jurisdiction,
    validation_ctx: Any,
) -> Iterator[ImportResult]:
    from openbeat.contracts.validation import dead_letter_reason, validate

    for line, row in iter_rows(path, fmt):
        try:
            record = convert(row, mapping, jurisdiction, kind)
        except RowError as exc:
            yield ImportResult(line, code=exc.code, field=exc.field, reason=str(exc))
            continue
        failures = validate(kind, record, validation_ctx)
        if failures:
            code, reason = dead_letter_reason(failures)
            yield ImportResult(line, code=code, field=failures[0].field, reason=reason)
            continue
        yield ImportResult(line, record=record)
