"""File import: CSV or JSON Lines rows in, checked input records (or reasons) out.

Pure iteration, no Kafka: the command shell turns `ImportResult`s into messages and a report.
Each row is converted by a column mapping (`openbeat.emit.mapping`, `values`), rows sharing a
`group_by` key are combined into one record (`grouping`), the record is completed and
type-checked against the kind's Avro schema (`shape`), then checked by the same semantic
validation the services run (`openbeat.contracts.validation`), so an agency learns at import time
what the pipeline would dead-letter. JSON Lines whose objects already use the schema's field
names need no mapping.

Every row ends up in exactly one place: in a sent record (`ImportResult.lines`), skipped by a
named rule (`ImportResult.skipped`) or in a rejection with its line and reason. A group is
rejected whole when any of its rows is (sending the rest could publish an incident without the
offense that makes it sensitive). A skipped row of a group still counts for the group's `any`
fields (sensitive, domestic, juvenile...), so skipping a row never makes an incident less private.

Problems with the whole import (missing file, directory, binary or mis-encoded text, bad
mapping, a column the file lacks) raise one `ImportError_` before any row is produced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.validation import dead_letter_reason, validate
from openbeat.emit.completion import completer
from openbeat.emit.grouping import bucket_count, combine, grouped_rows
from openbeat.emit.mapping import KINDS, Mapping, MappingError, RowError, load_mapping
from openbeat.emit.reading import (
    DEFAULT_ENCODING,
    FileProblem,
    Row,
    check_file,
    csv_header,
    file_format,
    iter_rows,
)
from openbeat.emit.rules import compiled_fields
from openbeat.emit.shape import (
    check_shape,
    field_names,
    list_fields,
    nest_fields,
    required_fields,
)
from openbeat.emit.values import apply_rule

logger = logging.getLogger(__name__)

__all__ = ["ImportError_", "ImportResult", "count_rows", "import_file", "iter_rows"]


class ImportError_(ValueError):
    """The import as a whole cannot run; the message names the file, column or key and the fix.

    (Trailing underscore: the builtin ImportError means something else entirely.)
    """


@dataclass(frozen=True, slots=True)
class ImportResult:
    """One record's worth of rows: `record` when it converted and validated, else `code` and
    `reason`; or only `skipped` rows when every row of the group was skipped by a rule.

    `line` is the first line of the rows that made the record (or the rejection), `lines` all
    of them; `skipped` holds (line, rule name) of the rows skipped on purpose.
    """

    line: int
    record: dict[str, Any] | None = None
    code: str | None = None
    field: str | None = None
    reason: str | None = None
    lines: tuple[int, ...] = ()
    skipped: tuple[tuple[int, str], ...] = ()
    unmapped: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.record is not None

    @property
    def outcome(self) -> str:
        """sent, skipped or rejected."""
        if self.record is not None:
            return "sent"
        return "rejected" if self.code is not None else "skipped"


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
    kind = kind or mapping.kind
    return _finish(kind, _mapped(row, mapping, jurisdiction, kind), jurisdiction)


def _mapped(
    row: dict[str, Any], mapping: Mapping, jurisdiction: Jurisdiction, kind: str
) -> dict[str, Any]:
    """One row's mapped values, nested into the schema's records and lists."""
    if "__error__" in row:
        raise RowError("bad_row", "", str(row["__error__"]))
    compiled = compiled_fields(mapping, jurisdiction)
    flat = compiled.values(row)  # each field's compiled function in turn
    return nest_fields(kind, flat) if compiled.dotted else flat


def _finish(kind: str, values: dict[str, Any], jurisdiction: Jurisdiction) -> dict[str, Any]:
    """Complete and type-check the record; an empty or unknown district comes from the point
    when the jurisdiction ships district boundaries."""
    district = values.get("district")
    if district not in jurisdiction.district_ids and jurisdiction.boundaries is not None:
        lat, lon = values.get("latitude"), values.get("longitude")
        if isinstance(lat, float) and isinstance(lon, float):
            located = jurisdiction.district_at(lat, lon)
            if located is not None:
                values = {**values, "district": located}
    return completer(kind)(values)  # complete_record(kind, values), planned once per kind


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
    header = set(csv_header(path, mapping.encoding))
    missing = {c: f for c, f in mapping.required_columns().items() if c not in header}
    if missing:
        named = ", ".join(f"{c!r} (for {f})" for c, f in missing.items())
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


def count_rows(path: str | Path, encoding: str = DEFAULT_ENCODING) -> int:
    """How many rows `iter_rows` will yield (for a progress bar); one cheap pass over the file."""
    return sum(1 for _ in iter_rows(path, encoding=encoding))


def open_import(
    path: str | Path, kind: str, mapping: Mapping | str | Path | None
) -> tuple[Path, Mapping | None, str]:
    """Check everything that concerns the whole import; (path, mapping, format) or ImportError_."""
    path = Path(path)
    if kind not in KINDS:
        raise ImportError_(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if mapping is not None and not isinstance(mapping, Mapping):
        try:
            mapping = load_mapping(mapping)
        except MappingError as exc:
            raise ImportError_(str(exc)) from exc
    encoding = mapping.encoding if mapping is not None else DEFAULT_ENCODING
    try:
        check_file(path, encoding)
    except FileProblem as exc:
        raise ImportError_(str(exc)) from exc
    fmt = file_format(path, mapping.format if mapping else None, encoding)
    if mapping is None:
        if fmt == "csv":
            raise ImportError_(
                f"{path}: a CSV file needs --mapping (a TOML column mapping, see "
                "infra/mappings/ and docs/mapping.md); only JSON Lines with the schema's field "
                "names can go without"
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
    """Every record of `path` as an ok, rejected or skipped `ImportResult`.

    Without `group_by` results come in file order, one per row; with it, one per group (see
    `grouping` for the order). The whole-file checks run when this is called, not on first
    iteration, so a bad path or mapping fails at once with `ImportError_`.
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
    encoding = mapping.encoding if mapping is not None else DEFAULT_ENCODING
    rows = iter_rows(path, fmt, encoding)
    if mapping is None:
        for line, row in rows:
            yield schema_result(kind, line, row, jurisdiction, validation_ctx)
        return
    groups: Iterator[list[Row]]
    if mapping.group_by is None:
        groups = ([item] for item in rows)
    else:
        size = bucket_count(path.stat().st_size)
        groups = grouped_rows(rows, mapping.group_by.columns, size)
    for group in groups:
        yield group_result(group, kind, mapping, jurisdiction, validation_ctx)


def schema_result(
    kind: str, line: int, row: dict[str, Any], jurisdiction: Jurisdiction, validation_ctx: Any
) -> ImportResult:
    """The result for one row that already uses the schema's field names (no mapping)."""
    try:
        record = convert(row, None, jurisdiction, kind)
    except RowError as exc:
        return _rejected(exc, line, (line,), ())
    return _validated(kind, record, line, (line,), (), validation_ctx)


def group_result(
    group: list[Row],
    kind: str,
    mapping: Mapping,
    jurisdiction: Jurisdiction,
    validation_ctx: Any,
) -> ImportResult:
    """The result for one group of rows (a single row when the mapping does not group)."""
    if len(group) == 1 and mapping.group_by is None and not mapping.skip:  # the usual case
        line, row = group[0]
        try:
            record = _finish(kind, _mapped(row, mapping, jurisdiction, kind), jurisdiction)
        except RowError as exc:
            return _rejected(exc, line, (line,), ())
        return _validated(kind, record, line, (line,), (), validation_ctx)
    kept: list[Row] = []
    skipped: list[tuple[int, str, dict[str, Any]]] = []
    for line, row in group:
        rule = _skip_rule(row, mapping)
        if rule is None:
            kept.append((line, row))
        else:
            skipped.append((line, rule, row))
    skips = tuple((line, name) for line, name, _ in skipped)
    if not kept:
        return ImportResult(group[0][0], skipped=skips)
    lines = tuple(line for line, _ in kept)
    try:
        if mapping.group_by is None:
            values = _mapped(kept[0][1], mapping, jurisdiction, kind)
        else:
            parts = [_row_values(line, row, mapping, jurisdiction, kind) for line, row in kept]
            parts.extend(_flags_of_skipped(skipped, mapping, jurisdiction))
            values = combine(parts, mapping.group_by.combine, list_fields(kind))
        record = _finish(kind, values, jurisdiction)
    except RowError as exc:
        return _rejected(exc, lines[0], lines, skips)
    return _validated(kind, record, lines[0], lines, skips, validation_ctx)


def _skip_rule(row: dict[str, Any], mapping: Mapping) -> str | None:
    """The name of the first skip rule the row matches (unreadable rows are never skipped)."""
    if "__error__" in row:
        return None
    for rule in mapping.skip:
        if rule.applies(row.get(rule.column)):
            return rule.name
    return None


def _row_values(
    line: int, row: dict[str, Any], mapping: Mapping, jurisdiction: Jurisdiction, kind: str
) -> dict[str, Any]:
    """One grouped row's values; an error names the row's line (the group has several)."""
    try:
        return _mapped(row, mapping, jurisdiction, kind)
    except RowError as exc:
        raise _at_line(exc, line) from None


def _at_line(exc: RowError, line: int) -> RowError:
    return RowError(exc.code, exc.field, f"line {line}: {exc.message}", exc.value)


def _flags_of_skipped(
    skipped: list[tuple[int, str, dict[str, Any]]], mapping: Mapping, jurisdiction: Jurisdiction
) -> list[dict[str, Any]]:
    """The `any`-combined fields of skipped rows: they still decide how private the group is."""
    assert mapping.group_by is not None
    names = [
        n for n, rule in mapping.group_by.combine.items() if rule == "any" and n in mapping.fields
    ]
    out = []
    for line, _, row in skipped:
        flags = {}
        for name in names:
            try:
                flags[name] = apply_rule(mapping.fields[name], row, mapping, jurisdiction, name)
            except RowError as exc:
                raise _at_line(exc, line) from None
        out.append(flags)
    return out


def _rejected(
    exc: RowError, line: int, lines: tuple[int, ...], skips: tuple[tuple[int, str], ...]
) -> ImportResult:
    unmapped = (exc.field, exc.value) if exc.value is not None else None
    return ImportResult(
        line,
        code=exc.code,
        field=exc.field,
        reason=str(exc),
        lines=lines,
        skipped=skips,
        unmapped=unmapped,
    )


def _validated(
    kind: str,
    record: dict[str, Any],
    line: int,
    lines: tuple[int, ...],
    skips: tuple[tuple[int, str], ...],
    validation_ctx: Any,
) -> ImportResult:
    failures = validate(kind, record, validation_ctx)
    if failures:
        code, reason = dead_letter_reason(failures)
        return ImportResult(
            line, code=code, field=failures[0].field, reason=reason, lines=lines, skipped=skips
        )
    return ImportResult(line, record=record, lines=lines, skipped=skips)
