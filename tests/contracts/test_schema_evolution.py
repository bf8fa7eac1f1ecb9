"""Schema evolution (SPEC 3): every new version reads everything every older version wrote.

The first test is generic over the repository's schemas/ folder: adding incident.v3.avsc (or any
new record) is covered without touching this file. The rest use throwaway schemas in tmp_path to
prove the load-time compatibility check refuses what would break agencies.
"""

from __future__ import annotations

import json
import random
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_reader
from fastavro.utils import generate_many

from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.compat import compatibility_problems
from openbeat.contracts.errors import SchemaStoreError
from openbeat.paths import SCHEMAS_DIR

REPO_STORE = SchemaStore.load(SCHEMAS_DIR)
VERSION_PAIRS = [
    (name, old, new)
    for name in REPO_STORE.names
    for i, old in enumerate(REPO_STORE.versions(name))
    for new in REPO_STORE.versions(name)[i + 1 :]
]


def test_the_repository_has_at_least_one_evolved_schema() -> None:
    # Guards the generic test below against silently testing nothing.
    assert ("openbeat.raw.Incident", 1, 2) in VERSION_PAIRS


@pytest.mark.parametrize(("name", "old", "new"), VERSION_PAIRS)
def test_data_written_with_an_old_version_reads_with_every_newer_one(
    name: str, old: int, new: int
) -> None:
    old_sv, new_sv = REPO_STORE.schema(name, old), REPO_STORE.schema(name, new)
    assert compatibility_problems(new_sv.parsed, old_sv.parsed) == []
    random.seed(f"{name}-{old}-{new}")  # fastavro's generator uses the random module
    new_only = {f["name"]: f for f in new_sv.parsed["fields"]}
    for record in generate_many(old_sv.parsed, 25):
        data = REPO_STORE.encode(name, record, version=old)
        as_written = schemaless_reader(BytesIO(data[10:]), old_sv.parsed, None)
        as_read = _read_with(data, old_sv.parsed, new_sv.parsed)
        assert isinstance(as_written, dict) and isinstance(as_read, dict)
        for field_name, field in new_only.items():
            if field_name in as_written:
                assert as_read[field_name] == as_written[field_name], field_name
            else:
                assert as_read[field_name] == field["default"], field_name


def _read_with(data: bytes, writer: Any, reader: Any) -> Any:
    return schemaless_reader(BytesIO(data[10:]), writer, reader)


# -- the load-time check on throwaway schemas ------------------------------------------------


def _record(*fields: dict[str, Any], name: str = "Thing") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "t", "fields": list(fields)}


def _folder(tmp_path: Path, *versions: dict[str, Any]) -> Path:
    for n, schema in enumerate(versions, start=1):
        (tmp_path / f"thing.v{n}.avsc").write_text(json.dumps(schema), encoding="utf-8")
    return tmp_path


BASE = _record({"name": "a", "type": "int"}, {"name": "s", "type": "string"})


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (
            _record(
                {"name": "a", "type": "int"},
                {"name": "s", "type": "string"},
                {"name": "b", "type": "string"},
            ),
            "Thing.b: new field without a default",
        ),
        (_record({"name": "a", "type": "string"}, {"name": "s", "type": "string"}), "Thing.a"),
        (_record({"name": "a", "type": "int"}, {"name": "s", "type": "int"}), "Thing.s"),
        (
            _record(
                {"name": "a", "type": {"type": "int", "logicalType": "date"}},
                {"name": "s", "type": "string"},
            ),
            "logical type changed",
        ),
    ],
)
def test_load_refuses_a_version_that_breaks_old_data(
    tmp_path: Path, new: dict[str, Any], problem: str
) -> None:
    folder = _folder(tmp_path, BASE, new)
    with pytest.raises(SchemaStoreError) as info:
        SchemaStore.load(folder)
    message = str(info.value)
    assert "thing.v2.avsc" in message and "not backward compatible" in message
    assert problem in message
    # The check can be switched off (a tool inspecting a broken folder), not silently skipped.
    assert SchemaStore.load(folder, check_compatibility=False).versions("t.Thing") == (1, 2)


@pytest.mark.parametrize(
    "new",
    [
        # a new optional field
        _record(
            {"name": "a", "type": "int"},
            {"name": "s", "type": "string"},
            {"name": "b", "type": ["null", "string"], "default": None},
        ),
        # a removed field
        _record({"name": "s", "type": "string"}),
        # promotions int -> long, string -> bytes
        _record({"name": "a", "type": "long"}, {"name": "s", "type": "bytes"}),
        # a field made nullable
        _record({"name": "a", "type": ["null", "int"]}, {"name": "s", "type": "string"}),
    ],
)
def test_load_accepts_backward_compatible_changes(tmp_path: Path, new: dict[str, Any]) -> None:
    store = SchemaStore.load(_folder(tmp_path, BASE, new))
    assert store.versions("t.Thing") == (1, 2)
    old_data = store.encode("t.Thing", {"a": 7, "s": "x"}, version=1)
    assert store.decode(old_data).writer_version == 1


def test_renaming_the_record_in_a_new_version_is_refused(tmp_path: Path) -> None:
    renamed = _record({"name": "a", "type": "int"}, {"name": "s", "type": "string"}, name="Other")
    with pytest.raises(SchemaStoreError, match="keeps its full name"):
        SchemaStore.load(_folder(tmp_path, BASE, renamed))


def test_nested_record_rename_without_alias_is_reported() -> None:
    inner = {"type": "record", "name": "In", "fields": []}
    renamed = {"type": "record", "name": "Out", "fields": []}
    aliased = {**renamed, "aliases": ["In"]}
    old = _record({"name": "x", "type": inner})
    assert any(
        "name changed" in p
        for p in compatibility_problems(
            _parsed(_record({"name": "x", "type": renamed})), _parsed(old)
        )
    )
    assert (
        compatibility_problems(_parsed(_record({"name": "x", "type": aliased})), _parsed(old)) == []
    )


def test_every_pair_is_checked_not_only_neighbours(tmp_path: Path) -> None:
    v1 = _record({"name": "a", "type": "int"})
    v2 = _record({"name": "z", "type": ["null", "int"], "default": None})  # drops a
    v3 = _record(  # brings back a as a string: fine after v2, fatal for v1 data
        {"name": "z", "type": ["null", "int"], "default": None},
        {"name": "a", "type": "string", "default": ""},
    )
    assert compatibility_problems(_parsed(v2), _parsed(v1)) == []
    assert compatibility_problems(_parsed(v3), _parsed(v2)) == []
    with pytest.raises(SchemaStoreError, match=r"thing\.v3\.avsc.*version 1"):
        SchemaStore.load(_folder(tmp_path, v1, v2, v3))


def test_removed_enum_symbol_needs_a_default() -> None:
    old = _record({"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}})
    new = _record({"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}})
    fixed = _record(
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"], "default": "A"}}
    )
    assert any("B" in p for p in compatibility_problems(_parsed(new), _parsed(old)))
    assert compatibility_problems(_parsed(fixed), _parsed(old)) == []


def test_a_writer_union_branch_the_reader_lacks_is_reported() -> None:
    old = _record({"name": "v", "type": ["null", "string", "int"]})
    new = _record({"name": "v", "type": ["null", "string"]})
    assert compatibility_problems(_parsed(new), _parsed(old))
    assert compatibility_problems(_parsed(old), _parsed(new)) == []


def test_recursive_schemas_terminate() -> None:
    node = _record(
        {"name": "next", "type": ["null", "t.Thing"], "default": None}, {"name": "v", "type": "int"}
    )
    assert compatibility_problems(_parsed(node), _parsed(node)) == []


def _parsed(schema: dict[str, Any]) -> Any:
    from fastavro import parse_schema

    return parse_schema(schema)
