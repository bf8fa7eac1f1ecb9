"""File import: every row accounted for, with line numbers, real city exports included."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from data_files import CHICAGO_CSV, NYC_CSV
from openbeat.contracts.examples import example_incident, example_report
from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.validation import ValidationContext
from openbeat.emit.importer import (
    ImportError_,
    ImportResult,
    count_rows,
    import_file,
    iter_rows,
    load_import_mapping,
)
from openbeat.paths import INFRA_DIR

CHICAGO_MAP = INFRA_DIR / "mappings" / "chicago-crimes.toml"
NYC_MAP = INFRA_DIR / "mappings" / "nyc-311.toml"
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def context(name: str) -> tuple[Jurisdiction, ValidationContext]:
    jurisdiction = load_jurisdiction(name)
    return jurisdiction, ValidationContext(jurisdiction, load_offense_table(), NOW)


def run(path: Path, kind: str, mapping: Path | None, city: str = "chicago") -> list[ImportResult]:
    jurisdiction, ctx = context(city)
    return list(import_file(path, kind, mapping, jurisdiction, ctx))


def source_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# -- reading rows ----------------------------------------------------------------------------


def test_csv_line_numbers_count_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        b'\xef\xbb\xbfa,b\r\n1,"two\r\nlines"\r\n\r\n3,"say ""hi"""\r\n4,"x\ny\nz"\n5,five\n'
    )
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [2, 5, 6, 9]
    assert rows[0][1] == {"a": "1", "b": "two\r\nlines"}  # BOM stripped from the header
    assert rows[1][1]["b"] == 'say "hi"'
    assert count_rows(path) == 4


def test_csv_row_with_wrong_cell_count_is_an_error_row(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n1,2,3\n", encoding="utf-8")
    rows = list(iter_rows(path))
    assert rows[1][0] == 3 and "3 cells" in rows[1][1]["__error__"]


def test_jsonl_line_numbers_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\nnot json\n[1]\n', encoding="utf-8")
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [1, 3, 4, 5]
    assert rows[1][1] == {"a": 2}
    assert "not valid JSON" in rows[2][1]["__error__"] and "object" in rows[3][1]["__error__"]


# -- the real city exports -------------------------------------------------------------------


def test_all_chicago_rows_convert_or_are_rejected_for_a_missing_district() -> None:
    results = run(CHICAGO_CSV, "incident", CHICAGO_MAP)
    source = source_rows(CHICAGO_CSV)
    assert len(results) == len(source)
    without_district = {i + 2 for i, row in enumerate(source) if not row["District"].strip()}
    rejected = {r.line for r in results if not r.ok}
    assert rejected == without_district  # no rejection is a mapping bug
    assert {(r.code, r.field) for r in results if not r.ok} == {("missing_field", "district")}
    assert len(without_district) < len(source) * 0.02


def test_chicago_values_match_their_source_row() -> None:
    results = {r.line: r for r in run(CHICAGO_CSV, "incident", CHICAGO_MAP)}
    source = source_rows(CHICAGO_CSV)
    zone = ZoneInfo("America/Chicago")
    checked = 0
    for i, row in enumerate(source):
        result = results[i + 2]
        if not result.ok:
            continue
        record = result.record
        assert record is not None
        local = datetime.strptime(row["Date"], "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=zone)
        assert record["occurred_at"] == local.astimezone(UTC) == record["reported_at"]
        assert record["incident_id"] == row["ID"] and record["district"] == row["District"]
        assert record["domestic"] is (row["Domestic"] == "true")
        assert record["status"] == ("cleared_arrest" if row["Arrest"] == "true" else "open")
        assert record["offense_description"] == f"{row['Primary Type']}: {row['Description']}"
        if row["Latitude"]:
            assert record["latitude"] == float(row["Latitude"])
        checked += 1
    assert checked > 6000


def test_chicago_offense_codes_follow_the_offense_type() -> None:
    codes: dict[str, Counter[str]] = {}
    source = source_rows(CHICAGO_CSV)
    for result in run(CHICAGO_CSV, "incident", CHICAGO_MAP):
        if result.ok:
            assert result.record is not None
            primary = source[result.line - 2]["Primary Type"]
            codes.setdefault(primary, Counter())[result.record["offense_code"]] += 1
    assert set(codes["MOTOR VEHICLE THEFT"]) == {"240"}
    assert set(codes["BURGLARY"]) == {"220"}
    assert set(codes["ROBBERY"]) == {"120"}
    assert set(codes["CRIM SEXUAL ASSAULT"]) == {"11A"}
    assert set(codes["THEFT"]) >= {"23C", "23H"} and set(codes["THEFT"]) <= {
        "23A", "23B", "23C", "23D", "23H", "26F"
    }  # fmt: skip
    assert set(codes["NARCOTICS"]) <= {"35A", "35B"}


def test_all_nyc_rows_convert_or_are_rejected_for_an_unspecified_district() -> None:
    results = run(NYC_CSV, "report", NYC_MAP, city="nyc")
    source = source_rows(NYC_CSV)
    assert len(results) == len(source)
    unspecified = {
        i + 2 for i, row in enumerate(source) if row["Community Board"].startswith("Unspecified")
    }
    assert {r.line for r in results if not r.ok} == unspecified
    assert {r.code for r in results if not r.ok} == {"unknown_district"}
    ok = [r.record for r in results if r.record is not None]
    assert Counter(r["channel"] for r in ok).keys() <= {"web", "app", "phone", "other"}
    by_line = {r.line: r.record for r in results if r.record is not None}
    for i, row in enumerate(source):
        record = by_line.get(i + 2)
        if record is None:
            continue
        assert record["report_id"] == row["Unique Key"]
        board = row["Community Board"]
        assert record["district"].endswith(board[:2])
        if not row["Incident Address"] and row["Intersection Street 1"]:
            assert " & " in (record["address"] or "")


# -- a broken export -------------------------------------------------------------------------

HEADER = "ID,Date,Block,IUCR,Primary Type,Description,Arrest,Domestic,Beat,District,FBI Code,"
HEADER += "Latitude,Longitude,Updated On"
GOOD = {
    "Date": "03/01/2014 10:00:00 AM", "Block": "001XX N STATE ST", "IUCR": "0820",
    "Primary Type": "THEFT", "Description": "$500 AND UNDER", "Arrest": "false",
    "Domestic": "false", "Beat": "0111", "District": "001", "FBI Code": "06",
    "Latitude": "41.88", "Longitude": "-87.63", "Updated On": "03/02/2014 08:00:00 AM",
}  # fmt: skip


def line(row_id: int, **changes: str) -> str:
    """One CSV line of a Chicago-style export: a valid theft unless `changes` break it."""
    cells = {"ID": str(row_id), **GOOD, **{k.replace("_", " "): v for k, v in changes.items()}}
    return ",".join(cells[c] for c in HEADER.split(","))


BROKEN = (
    "\n".join(
        [
            HEADER,
            line(1),  # line 2: fine
            line(2, Date="2014-03-01 10:00"),  # 3: wrong date format
            line(3, Latitude="48.85", Longitude="2.35"),  # 4: Paris
            line(4, District="099"),  # 5: no such district
            line(5, Domestic="maybe"),  # 6: not a boolean
            line(6, Description='"multi\nline"', Latitude="north"),  # 7-8: not a number
            line(7, IUCR="9999", FBI_Code="77"),  # 9: no NIBRS code for it
            line(8, Date="03/01/2030 10:00:00 AM"),  # 10: in the future
            line(9, Description="too,many,cells"),  # 11: three cells for one
            line(10, IUCR="0860", Description="RETAIL THEFT", Latitude="", Longitude=""),  # 12
        ]
    )
    + "\n"
)


def test_broken_rows_get_their_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(BROKEN, encoding="utf-8")
    results = {r.line: r for r in run(path, "incident", CHICAGO_MAP)}
    assert sorted(results) == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12]
    expected = {
        3: ("invalid_timestamp", "occurred_at"),
        4: ("coordinates_outside_jurisdiction", "latitude"),
        5: ("unknown_district", "district"),
        6: ("wrong_type", "domestic"),
        7: ("wrong_type", "latitude"),
        9: ("unmapped_value", "offense_code"),
        10: ("timestamp_in_future", "reported_at"),
        11: ("bad_row", ""),
    }
    for line, (code, field) in expected.items():
        result = results[line]
        assert not result.ok and (result.code, result.field) == (code, field), result
        assert result.reason
    assert results[2].ok and results[12].ok
    assert results[12].record is not None and results[12].record["latitude"] is None
    assert results[12].record["offense_code"] == "23C"
    assert "'maybe'" in (results[6].reason or "")


def test_jsonl_with_schema_field_names_needs_no_mapping(tmp_path: Path) -> None:
    good = example_report()
    good["submitted_at"] = "2024-05-01T12:00:00Z"
    bad_time = dict(good, submitted_at="2024-05-01T12:00:00")  # no offset: which zone?
    unknown = dict(good, colour="red")
    wrong = dict(good, latitude="north")
    path = tmp_path / "reports.jsonl"
    lines = [json.dumps(x) for x in (good, bad_time, unknown, wrong)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = run(path, "report", None, city="sample")
    assert [r.line for r in results] == [1, 2, 3, 4]
    assert results[0].ok and results[0].record is not None
    assert results[0].record["submitted_at"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert [(r.code, r.field) for r in results[1:]] == [
        ("invalid_timestamp", "submitted_at"),
        ("unknown_field", "colour"),
        ("wrong_type", "latitude"),
    ]


def test_jsonl_incident_with_nested_persons(tmp_path: Path) -> None:
    record: dict[str, Any] = example_incident()
    text = json.dumps(record, default=lambda v: v.isoformat())
    path = tmp_path / "incidents.ndjson"
    path.write_text(text + "\n", encoding="utf-8")
    (result,) = run(path, "incident", None, city="sample")
    assert result.ok and result.record == record


# -- whole-import errors: one line each ------------------------------------------------------


def one_line(exc: pytest.ExceptionInfo[ImportError_]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportError_) as info:
        run(tmp_path / "nope.csv", "incident", CHICAGO_MAP)
    assert "nope.csv" in one_line(info) and "not found" in one_line(info)


def test_unknown_column_is_named_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    header, *rows = BROKEN.splitlines()
    path.write_text(header.replace(",Arrest,", ",Arrested,") + "\n" + "\n".join(rows), "utf-8")
    jurisdiction, ctx = context("chicago")
    with pytest.raises(ImportError_) as info:
        import_file(path, "incident", CHICAGO_MAP, jurisdiction, ctx)  # raises before iterating
    message = one_line(info)
    assert "'Arrest'" in message and "fields.status" in message and "chicago-crimes" in message


def test_bad_mapping_file(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text('kind = "incident"\n[fields]\nincident_id = { colum = "ID" }\n', "utf-8")
    with pytest.raises(ImportError_) as info:
        load_import_mapping(mapping, "incident")
    assert "bad.toml" in one_line(info) and "fields.incident_id.colum" in one_line(info)


def test_mapping_for_another_kind_or_missing_required_fields(tmp_path: Path) -> None:
    with pytest.raises(ImportError_) as info:
        load_import_mapping(NYC_MAP, "incident")
    assert "--kind report" in one_line(info)
    mapping = tmp_path / "thin.toml"
    mapping.write_text('kind = "incident"\n[fields]\nincident_id = "ID"\n', "utf-8")
    with pytest.raises(ImportError_) as info:
        load_import_mapping(mapping, "incident")
    assert "agency_id" in one_line(info)
    mapping.write_text(CHICAGO_MAP.read_text() + '\n[fields.colour]\nconst = "red"\n', "utf-8")
    with pytest.raises(ImportError_) as info:
        load_import_mapping(mapping, "incident")
    assert "fields.colour" in one_line(info)


def test_csv_without_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ImportError_, match="--mapping"):
        run(path, "incident", None)
