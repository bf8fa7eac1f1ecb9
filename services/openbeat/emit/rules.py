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
    """(field, function of a row) for every field of a mapping, in the mapping's order; whether
    any field is dotted (a part of a nested record or list: the values need nesting); and
    `values(row)`, the dict of every field's value, the same as calling each function in turn
    (generated as one function: see `_values_function`)."""

    functions: list[tuple[str, FieldFunction]]
    dotted: bool
    values: Callable[[Row], dict[str, Any]]


# How `_values_function` writes a field out: ("plain", column, general) for a text column used
# as it is, ("kept", column, answers, new, general) for answers kept by one cell, ("call",
# function) for any other.
Recipe = tuple[Any, ...]


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
    made = [
        (name, *_compile(rule, mapping, zone, name, shared))
        for name, rule in mapping.fields.items()
    ]
    functions = [(name, function) for name, function, _ in made]
    values = _values_function([(name, recipe) for name, _, recipe in made], mapping.null_values)
    compiled = CompiledFields(functions, any("." in name for name in mapping.fields), values)
    # The mapping and zone are kept beside the functions, so their ids are never reused.
    _COMPILED[key] = (mapping, zone, compiled)
    return compiled


def _compile(
    rule: FieldRule, mapping: Mapping, zone: Jurisdiction, field: str, shared: dict[str, Any]
) -> tuple[FieldFunction, Recipe]:
    """The field's function of a row and its recipe for `_values_function`."""

    def general(row: Row) -> Any:
        return apply_rule(rule, row, mapping, zone, field)

    if rule.column is not None and _bare(rule):
        if rule.type == "string":
            plain = _plain(rule.column, mapping.null_values, general)
            return plain, ("plain", rule.column, general)
        if rule.type in ("float", "int"):
            function = _number(rule.column, rule.type, mapping.null_values, general)
            return function, ("call", function)
    if _makes_list(rule):
        return general, ("call", general)
    answers = shared.setdefault(rule.model_dump_json(), {})
    columns = tuple(dict.fromkeys(column for column, _ in rule.columns()))
    if not columns:
        function = _constant(answers, general)
    elif len(columns) == 1:
        first = None
        if rule.column is not None and _bare(rule):  # a typed column: convert it at once
            first = _converted(rule, mapping.null_values, zone, field, general)
        new = _new_answer(answers, general, first)
        kept = _kept_by_cell(columns[0], answers, general, new)
        return kept, ("kept", columns[0], answers, new, general)
    elif len(columns) == 2:
        function = _kept_by_pair(columns[0], columns[1], answers, general)
    else:
        function = _kept_by_cells(columns, answers, general)
    return function, ("call", function)


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


def _new_answer(
    answers: dict[Any, Any], general: FieldFunction, first: Callable[[Row, str], Any] | None
) -> Callable[[Row, str], Any]:
    """`new(row, cell)`: the answer for a cell not seen yet (by `first(row, cell)`, by default
    the rule's general path), kept."""

    def new(row: Row, cell: str) -> Any:
        value = general(row) if first is None else first(row, cell)
        if len(answers) >= ANSWERS_KEPT:
            answers.clear()
        answers[cell] = value
        return value

    return new


def _kept_by_cell(
    column: str, answers: dict[Any, Any], general: FieldFunction, new: Callable[[Row, str], Any]
) -> FieldFunction:
    """Answers kept by the text of one cell."""

    def kept(row: Row) -> Any:
        cell = row.get(column)
        if type(cell) is not str:
            return general(row)
        value = answers.get(cell, _MISSING)
        if value is _MISSING:
            value = new(row, cell)
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


def _values_function(
    recipes: list[tuple[str, Recipe]], nulls: tuple[str, ...]
) -> Callable[[Row], dict[str, Any]]:
    """`row -> {field: value}` as one generated function: the plain and kept fields' lines are
    written in line (what `_plain` and `_kept_by_cell` do), the others call their function.

    A row's dozen fields called one by one cost about as much in calls as in work; the values
    and the order they are computed in (so the first bad field raises) are the same.
    """
    space: dict[str, Any] = {"_MISSING": _MISSING, "_nulls": nulls}
    source = ["def values(row):", "    get = row.get"]
    for number, (_, recipe) in enumerate(recipes):
        value = f"v{number}"
        if recipe[0] == "plain":
            _, column, space[f"_general_{number}"] = recipe
            source += [
                f"    c = get({column!r})",
                "    if type(c) is str and (t := c.strip()) and t not in _nulls:",
                f"        {value} = t",
                "    else:",
                f"        {value} = _general_{number}(row)",
            ]
        elif recipe[0] == "kept":
            _, column, space[f"_answers_{number}"], space[f"_new_{number}"] = recipe[:4]
            space[f"_general_{number}"] = recipe[4]
            source += [
                f"    c = get({column!r})",
                "    if type(c) is str:",
                f"        {value} = _answers_{number}.get(c, _MISSING)",
                f"        if {value} is _MISSING:",
                f"            {value} = _new_{number}(row, c)",
                "    else:",
                f"        {value} = _general_{number}(row)",
            ]
        else:
            space[f"_function_{number}"] = recipe[1]
            source.append(f"    {value} = _function_{number}(row)")
    pairs = ", ".join(f"{name!r}: v{number}" for number, (name, _) in enumerate(recipes))
    source.append(f"    return {{{pairs}}}")
    exec(compile("\n".join(source), "<mapped values>", "exec"), space)
    function: Callable[[Row], dict[str, Any]] = space["values"]
    return function
