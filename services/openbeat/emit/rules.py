"""A mapping's field rules compiled once into one function per field, for the per-row loop.

`values.apply_rule` interprets a rule on every row: it asks again, for each cell, which source,
regex, map, fallback and type the rule has. An export of a few hundred thousand rows runs the
same dozen rules on every row, so `compiled_fields` looks at each rule once and picks the
cheapest function that returns exactly what `apply_rule` returns for that row (the same value,
or the same `RowError`, since every unusual case is handed to `apply_rule` itself):

- a text column used as it is returns the stripped cell;
- a number column converts the stripped cell with `float` / `int`;
- any other rule that yields no list (dates, revisions, maps, templates, fallbacks, constants)
  depends only on the cells it reads, so its answers are kept by those cells: an export repeats
  its codes, flags, categories and times, and one rule's answer serves every row with the same
  cells (and every field with the same rule: occurred_at and reported_at from one column);
- a rule that yields a list runs `apply_rule` (a list is a fresh container per record).

Only rows whose cells are all text take the shortcuts (a CSV row always; a JSON Lines value that
is a number, a list or absent goes to `apply_rule`). Errors are never kept: a bad cell raises
its own error on every row, naming the row's field.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from typing import Any, NamedTuple

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.emit.mapping import FieldRule, Mapping
from openbeat.emit.values import apply_rule, convert_value

logger = logging.getLogger(__name__)

Row = AnyMapping[str, Any]
FieldFunction = Callable[[Row], Any]

# Answers kept per distinct rule: enough for every code, flag and category of an export and for
# the times of a few weeks of rows (a busy city repeats each minute several times a month). A
# full table is emptied and refilled (it is a few MB at most, and a day's rows are together).
ANSWERS_KEPT = 1 << 16
# Compiled mappings kept, by the identity of (mapping, jurisdiction): an import uses one; tests
# and the dry run's checks build a few hundred small ones, which must not pile up.
COMPILED_KEPT = 64

_MISSING = object()


class CompiledFields(NamedTuple):
    """(field, function of a row) for every field of a mapping, in the mapping's order, and
    whether any field is dotted (a part of a nested record or list: the values need nesting)."""

    functions: list[tuple[str, FieldFunction]]
    dotted: bool


_COMPILED: dict[tuple[int, int], tuple[Mapping, Jurisdiction, CompiledFields]] = {}


def compiled_fields(mapping: Mapping, zone: Jurisdiction) -> CompiledFields:
    """The mapping's fields compiled for `zone`, once per mapping.

    Each `function(row)` is `apply_rule(rule, row, mapping, zone, field)`.
    """
    key = (id(mapping), id(zone))
    known = _COMPILED.get(key)
    if known is not None:
        return known[2]
    if len(_COMPILED) >= COMPILED_KEPT:
        _COMPILED.clear()
    shared: dict[str, dict[Any, Any]] = {}  # answers by rule, shared by fields with equal rules
    functions = [
        (name, _compile(rule, mapping, zone, name, shared)) for name, rule in mapping.fields.items()
    ]
    compiled = CompiledFields(functions, any("." in name for name in mapping.fields))
    # The mapping and zone are kept beside the functions, so their ids are never reused.
    _COMPILED[key] = (mapping, zone, compiled)
    return compiled


def _compile(
    rule: FieldRule, mapping: Mapping, zone: Jurisdiction, field: str, shared: dict[str, Any]
) -> FieldFunction:
    def general(row: Row) -> Any:
        return apply_rule(rule, row, mapping, zone, field)

    if rule.column is not None and _bare(rule):
        if rule.type == "string":
            return _plain(rule.column, mapping.null_values, general)
        if rule.type in ("float", "int"):
            return _number(rule.column, rule.type, mapping.null_values, general)
    if _makes_list(rule):
        return general
    answers = shared.setdefault(rule.model_dump_json(), {})
    columns = tuple(dict.fromkeys(column for column, _ in rule.columns()))
    if not columns:
        return _constant(answers, general)
    if len(columns) == 1:
        first = None
        if rule.column is not None and _bare(rule):  # a typed column: convert it at once
            first = _converted(rule, mapping.null_values, zone, field, general)
        return _kept_by_cell(columns[0], answers, general, first)
    if len(columns) == 2:
        return _kept_by_pair(columns[0], columns[1], answers, general)
    return _kept_by_cells(columns, answers, general)


def _bare(rule: FieldRule) -> bool:
    """A column used as it is before its type conversion: no regex, replace, map or fallback."""
    return rule.regex is None and not rule.replace and rule.map is None and rule.fallback is None


def _makes_list(rule: FieldRule) -> bool:
    current: FieldRule | None = rule
    while current is not None:
        if current.type == "list":
            return True
        current = current.fallback
    return False


def _plain(column: str, nulls: tuple[str, ...], general: FieldFunction) -> FieldFunction:
    def plain(row: Row) -> Any:
        cell = row.get(column)
        if type(cell) is str:
            text = cell.strip()
            if text and text not in nulls:
                return text
        return general(row)

    return plain


def _number(
    column: str, kind: str, nulls: tuple[str, ...], general: FieldFunction
) -> FieldFunction:
    parse: Callable[[str], float | int] = float if kind == "float" else int
    isfinite = math.isfinite

    def number(row: Row) -> Any:
        cell = row.get(column)
        if type(cell) is str:
            text = cell.strip()
            if text and text not in nulls:
                try:
                    value = parse(text)
                except ValueError:
                    return general(row)  # raises the rule's own error (or reads "1,234")
                if kind == "int" or isfinite(value):
                    return value
        return general(row)

    return number


def _converted(
    rule: FieldRule, nulls: tuple[str, ...], zone: Jurisdiction, field: str, general: FieldFunction
) -> Callable[[Row, str], Any]:
    """The first answer for a text cell of a typed column used as it is (a time, a revision, a
    flag): what `apply_rule` does for it, the type conversion of the stripped text."""

    def converted(row: Row, cell: str) -> Any:
        text = cell.strip()
        if text and text not in nulls:
            return convert_value(rule, text, zone, field)
        return general(row)  # the empty cell's default

    return converted


def _kept_by_cell(
    column: str,
    answers: dict[Any, Any],
    general: FieldFunction,
    first: Callable[[Row, str], Any] | None = None,
) -> FieldFunction:
    """Answers kept by the text of one cell; `first(row, cell)` computes a new one (by default
    the rule's general path)."""

    def kept(row: Row) -> Any:
        cell = row.get(column)
        if type(cell) is not str:
            return general(row)
        value = answers.get(cell, _MISSING)
        if value is _MISSING:
            value = general(row) if first is None else first(row, cell)
            if len(answers) >= ANSWERS_KEPT:
                answers.clear()
            answers[cell] = value
        return value

    return kept


def _constant(answers: dict[Any, Any], general: FieldFunction) -> FieldFunction:
    """A rule that reads no cell (a const): its answer, once it has one."""

    def constant(row: Row) -> Any:
        value = answers.get((), _MISSING)
        if value is _MISSING:
            value = answers[()] = general(row)
        return value

    return constant


def _kept_by_pair(
    first: str, second: str, answers: dict[Any, Any], general: FieldFunction
) -> FieldFunction:
    """`_kept_by_cells` for the common two columns (a code and its fallback, a template)."""

    def kept(row: Row) -> Any:
        cells = (row.get(first), row.get(second))
        if type(cells[0]) is not str or type(cells[1]) is not str:
            return general(row)
        value = answers.get(cells, _MISSING)
        if value is _MISSING:
            value = general(row)
            if len(answers) >= ANSWERS_KEPT:
                answers.clear()
            answers[cells] = value
        return value

    return kept


def _kept_by_cells(
    columns: tuple[str, ...], answers: dict[Any, Any], general: FieldFunction
) -> FieldFunction:
    def kept(row: Row) -> Any:
        cells = tuple([row.get(column) for column in columns])
        for cell in cells:
            if type(cell) is not str:
                return general(row)
        value = answers.get(cells, _MISSING)
        if value is _MISSING:
            value = general(row)
            if len(answers) >= ANSWERS_KEPT:
                answers.clear()
            answers[cells] = value
        return value

    return kept
