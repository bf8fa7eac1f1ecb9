"""Avro schema-resolution compatibility: can a reader schema read everything a writer wrote?

SPEC 3 promises agencies that a new schema version never breaks them: data written with any old
version must stay readable with the newest. fastavro only discovers a violation when it meets a
datum that exercises it (a union branch, an enum symbol), so `SchemaStore.load` checks every pair
of versions up front with these rules, taken from the "Schema Resolution" section of the Avro
specification:

- records match by unqualified name (or a reader alias); every reader field either exists in
  the writer (by name or alias) with a compatible type, or has a default; writer-only fields
  are skipped;
- enums match by name; writer symbols missing from the reader need a reader default;
- fixed match by name and size; arrays and maps by items and values;
- a writer union needs every branch readable; a reader union needs some branch that reads the
  writer type;
- primitives match, or promote: int -> long/float/double, long -> float/double, float -> double,
  string <-> bytes.

One rule stricter than the spec: a changed `logicalType` (timestamp-millis to timestamp-micros, say)
is reported, because the bytes would still decode but mean something else.

Schemas are fastavro-parsed (full names, named types by reference, `__named_schemas`).
"""

from __future__ import annotations

from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})

# writer type -> reader types that can read it (Avro specification, "Schema Resolution").
PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


def compatibility_problems(reader: Any, writer: Any) -> list[str]:
    """Why `reader` cannot read data written with `writer`; empty when it can."""
    checker = _Checker(_named(reader), _named(writer), set())
    checker.check(reader, writer, _short_name(reader))
    return checker.problems


def _named(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict):
        return dict(schema.get("__named_schemas", {}))
    return {}


def _short_name(schema: Any) -> str:
    if isinstance(schema, dict) and "name" in schema:
        return str(schema["name"]).rsplit(".", 1)[-1]
    return "<root>"


def _type_label(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union[" + ", ".join(_type_label(b) for b in schema) + "]"
    if isinstance(schema, dict):
        if "name" in schema:
            return f"{schema['type']} {schema['name']}"
        if "logicalType" in schema:
            return f"{schema['type']} ({schema['logicalType']})"
        return str(schema["type"])
    return repr(schema)


class _Checker:
    def __init__(
        self,
        reader_named: dict[str, Any],
        writer_named: dict[str, Any],
        seen: set[tuple[str, str]],
    ) -> None:
        self.reader_named = reader_named
        self.writer_named = writer_named
        # (reader name, writer name) pairs already being checked: recursive types terminate.
        self.seen = seen
        self.problems: list[str] = []

    def _resolve(self, schema: Any, named: dict[str, Any]) -> Any:
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return named.get(schema, schema)
        return schema

    @staticmethod
    def _kind(schema: Any) -> str:
        if isinstance(schema, str):
            return schema
        if isinstance(schema, list):
            return "union"
        return str(schema.get("type"))

    def _trial(self, reader: Any, writer: Any, path: str) -> list[str]:
        sub = _Checker(self.reader_named, self.writer_named, set(self.seen))
        sub.check(reader, writer, path)
        return sub.problems

    def check(self, reader: Any, writer: Any, path: str) -> None:
        reader = self._resolve(reader, self.reader_named)
        writer = self._resolve(writer, self.writer_named)
        if isinstance(writer, list):
            for branch in writer:
                self.check(reader, branch, path)
            return
        if isinstance(reader, list):
            if not any(not self._trial(branch, writer, path) for branch in reader):
                self.problems.append(
                    f"{path}: no branch of the reader's {_type_label(reader)} can read the "
                    f"writer's {_type_label(writer)}"
                )
            return
        r_kind, w_kind = self._kind(reader), self._kind(writer)
        if r_kind != w_kind:
            if r_kind not in PROMOTIONS.get(w_kind, frozenset()):
                self.problems.append(
                    f"{path}: the writer's {_type_label(writer)} cannot be read as "
                    f"{_type_label(reader)}"
                )
            return
        self._check_logical(reader, writer, path)
        if r_kind == "record":
            self._check_record(reader, writer, path)
        elif r_kind == "enum":
            self._check_enum(reader, writer, path)
        elif r_kind == "fixed":
            if self._names_match(reader, writer, path) and reader["size"] != writer["size"]:
                self.problems.append(
                    f"{path}: fixed size changed from {writer['size']} to {reader['size']}"
                )
        elif r_kind == "array":
            self.check(reader["items"], writer["items"], f"{path}[]")
        elif r_kind == "map":
            self.check(reader["values"], writer["values"], f"{path}{{}}")

    def _check_logical(self, reader: Any, writer: Any, path: str) -> None:
        r_logical = reader.get("logicalType") if isinstance(reader, dict) else None
        w_logical = writer.get("logicalType") if isinstance(writer, dict) else None
        if r_logical != w_logical:
            self.problems.append(
                f"{path}: logical type changed from {w_logical or 'none'} to "
                f"{r_logical or 'none'}, so old values would be misread"
            )

    def _names_match(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> bool:
        r_short = str(reader["name"]).rsplit(".", 1)[-1]
        w_short = str(writer["name"]).rsplit(".", 1)[-1]
        aliases = {str(a).rsplit(".", 1)[-1] for a in reader.get("aliases", [])}
        if r_short == w_short or w_short in aliases:
            return True
        self.problems.append(
            f"{path}: {reader['type']} name changed from {writer['name']} to {reader['name']} "
            "without an alias"
        )
        return False

    def _check_record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        if not self._names_match(reader, writer, path):
            return
        key = (str(reader["name"]), str(writer["name"]))
        if key in self.seen:
            return
        self.seen.add(key)
        writer_fields = {f["name"]: f for f in writer["fields"]}
        for field in reader["fields"]:
            names = [field["name"], *field.get("aliases", [])]
            match = next((writer_fields[n] for n in names if n in writer_fields), None)
            field_path = f"{path}.{field['name']}"
            if match is not None:
                self.check(field["type"], match["type"], field_path)
            elif "default" not in field:
                self.problems.append(
                    f"{field_path}: new field without a default, so data written with the "
                    "older version cannot be read"
                )

    def _check_enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        if not self._names_match(reader, writer, path):
            return
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            self.problems.append(
                f"{path}: enum symbols {', '.join(missing)} were removed and the enum has no "
                "default"
            )
