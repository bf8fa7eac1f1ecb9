"""Mapping features on small exports: group_by, skip rules, revisions from a timestamp, status
unknown, DST choices, the sensitive flag, district from a point, and broken files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.validation import ValidationContext
from openbeat.emit.importer import ImportError_, ImportResult, import_file, iter_rows

NOW = datetime(2024, 12, 1, tzinfo=UTC)
SAMPLE = load_jurisdiction("sample")
CTX = ValidationContext(SAMPLE, load_offense_table(), NOW)
HEADER = "Case,When,Updated,Code,Desc,Kind,Flag,Juv,Addr,Lat,Lon,Dist,Status"

MAPPING = """
kind = "incident"
format = "csv"
{extra}

[[skip]]
name = "non_criminal"
column = "Kind"
values = ["Lost Property", "Courtesy"]

[fields]
incident_id = "Case"
agency_id = {{ const = "RPD" }}
revision = {{ column = "Updated", type = "revision", format = "%Y-%m-%d %H:%M" }}
"offenses.code" = "Code"
"offenses.description" = "Desc"
sensitive = {{ column = "Flag", type = "bool", map = {{ "DV" = true }}, unmapped = false }}
juvenile_involved = {{ column = "Juv", type = "bool" }}
address = "Addr"
latitude = {{ column = "Lat", type = "float" }}
longitude = {{ column = "Lon", type = "float" }}
district = "Dist"
status = {{ column = "Status", default = "unknown" }}

[fields.occurred_at]
column = "When"
type = "datetime"
format = "%Y-%m-%d %H:%M"
ambiguous = "{ambiguous}"

[fields.reported_at]
column = "When"
type = "datetime"
format = "%Y-%m-%d %H:%M"
ambiguous = "{ambiguous}"

[fields."offenses.completion"]
column = "Desc"
replace = [["(?i)^.*attempt.*$", "attempted"], ["^(?!attempted$).*$", ""]]
"""

GROUPED = """
[group_by]
columns = ["Case"]
[group_by.combine]
occurred_at = "min"
reported_at = "min"
revision = "max"
sensitive = "any"
juvenile_involved = "any"
"""


def row(case: str, code: str = "23F", **cells: str) -> str:
    values = {
        "Case": case, "When": "2024-05-01 10:00", "Updated": "2024-05-02 08:00", "Code": code,
        "Desc": "THEFT", "Kind": "Crime", "Flag": "", "Juv": "false", "Addr": "1200 W MAIN ST",
        "Lat": "41.4812", "Lon": "-88.2791", "Dist": "D1", "Status": "open",
    }  # fmt: skip
    values.update(cells)
    return ",".join(values[c] for c in HEADER.split(","))


def run(
    tmp_path: Path, lines: list[str], grouped: bool = True, ambiguous: str = "earlier"
) -> list[ImportResult]:
    mapping = tmp_path / "m.toml"
    extra = GROUPED if grouped else ""
    mapping.write_text(MAPPING.format(extra=extra, ambiguous=ambiguous), encoding="utf-8")
    export = tmp_path / "export.csv"
    export.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return list(import_file(export, "incident", mapping, SAMPLE, CTX))


def accounted(results: list[ImportResult]) -> list[int]:
    lines = [line for r in results for line in r.lines]
    return sorted(lines + [line for r in results for line, _ in r.skipped])


def test_rows_of_one_case_anywhere_in_the_file_are_one_incident(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        [
            row("A1", "23F", When="2024-05-01 11:00"),
            row("B2", "220"),
            row("A1", "13B", Flag="DV", When="2024-05-01 09:30", Updated="2024-05-03 09:00"),
            row("A1", "23F"),  # a supplemental copy of the first offense
        ],
    )
    assert accounted(results) == [2, 3, 4, 5]
    by_id = {r.record["incident_id"]: r for r in results if r.record is not None}
    a1 = by_id["A1"]
    assert a1.lines == (2, 4, 5)
    assert a1.record is not None
    assert [o["code"] for o in a1.record["offenses"]] == ["23F", "13B"]
    assert a1.record["sensitive"] is True  # any row
    assert a1.record["occurred_at"] == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)  # min, CDT
    assert a1.record["revision"] == int(
        (datetime(2024, 5, 3, 14, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds()
    )  # max of "Updated", local time, as seconds since 2000
    assert by_id["B2"].record is not None and by_id["B2"].record["sensitive"] is False


def test_one_bad_row_rejects_its_whole_group_with_its_line(tmp_path: Path) -> None:
    results = run(tmp_path, [row("A1"), row("A1", "13B", Lat="north"), row("B2")])
    (rejected,) = [r for r in results if r.outcome == "rejected"]
    assert rejected.lines == (2, 3) and rejected.code == "wrong_type"
    assert "line 3" in (rejected.reason or "")
    assert accounted(results) == [2, 3, 4]


def test_skip_rules_count_rows_by_name_and_skipped_rows_keep_their_flags(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        [
            row("A1"),
            row("A1", Kind="Lost Property", Juv="true"),  # skipped, but says juvenile
            row("C3", Kind="Courtesy"),
            row("D4", Kind="Lost Property"),
        ],
    )
    assert accounted(results) == [2, 3, 4, 5]
    sent = [r for r in results if r.outcome == "sent"]
    assert len(sent) == 1 and sent[0].skipped == ((3, "non_criminal"),)
    assert sent[0].record is not None and sent[0].record["juvenile_involved"] is True
    whole = [r for r in results if r.outcome == "skipped"]
    assert sorted(r.skipped for r in whole) == [((4, "non_criminal"),), ((5, "non_criminal"),)]


def test_without_group_by_each_row_is_a_record_and_skips_still_count(tmp_path: Path) -> None:
    results = run(tmp_path, [row("A1"), row("A1", "13B"), row("B2", Kind="Courtesy")], False)
    assert [r.outcome for r in results] == ["sent", "sent", "skipped"]


def test_status_unknown_and_completion(tmp_path: Path) -> None:
    (result,) = run(tmp_path, [row("A1", Status="", Desc="ATTEMPTED BURGLARY")])
    assert result.record is not None and result.record["status"] == "unknown"
    assert result.record["offenses"][0]["completion"] == "attempted"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("earlier", datetime(2024, 11, 3, 6, 30, tzinfo=UTC)),  # 01:30 CDT
        ("later", datetime(2024, 11, 3, 7, 30, tzinfo=UTC)),  # 01:30 CST
        ("reject", None),
    ],
)
def test_ambiguous_autumn_times_follow_the_mapping_choice(
    tmp_path: Path, choice: str, expected: datetime | None
) -> None:
    (result,) = run(tmp_path, [row("A1", When="2024-11-03 01:30")], ambiguous=choice)
    if expected is None:
        assert result.code == "ambiguous_time" and "happens twice" in (result.reason or "")
    else:
        assert result.record is not None and result.record["occurred_at"] == expected
    (plain,) = run(tmp_path, [row("A1", When="2024-11-03 03:30")], ambiguous="reject")
    assert plain.ok  # only the repeated hour is ambiguous


def test_district_from_the_point_when_the_column_is_empty_or_unknown(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        [
            row("A1", Dist="", Lat="41.530", Lon="-88.280"),  # Northside
            row("B2", Dist="Z9", Lat="41.480", Lon="-88.200"),  # unknown id; Eastgate
            row("C3", Dist="D5", Lat="41.480", Lon="-88.200"),  # a known id is kept
            row("D4", Dist="", Lat="", Lon=""),  # nothing to go by
        ],
    )
    got = {r.line: (r.record or {}).get("district") for r in results}
    assert got == {2: "D2", 3: "D3", 4: "D5", 5: None}
    assert [r.code for r in results if r.line == 5] == ["missing_field"]


def test_re_importing_the_same_export_gives_identical_records(tmp_path: Path) -> None:
    lines = [row("A1"), row("B2", "220"), row("A1", "13B")]
    first = run(tmp_path, lines)
    assert [r.record for r in run(tmp_path, lines)] == [r.record for r in first]


# -- broken files: reported, never a traceback, never a vanished row --------------------------


def test_an_unclosed_quote_does_not_swallow_the_next_rows(tmp_path: Path) -> None:
    lines = [row("A1"), row("B2", Desc='"THEFT'), row("C3"), row("D4", Desc='"SAY ""HI"""')]
    results = run(tmp_path, lines, grouped=False)
    assert accounted(results) == [2, 3, 4, 5]
    by_line = {r.line: r for r in results}
    assert by_line[3].code == "bad_row" and "not closed" in (by_line[3].reason or "")
    assert by_line[4].ok and by_line[5].ok  # the swallowed valid row is back


def test_an_unclosed_quote_at_the_end_swallowing_a_whole_row_is_found(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,"open\n2,two\n', encoding="utf-8")
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [2, 3]
    assert "__error__" in rows[0][1] and rows[1][1] == {"a": "2", "b": "two"}


def test_a_genuine_multi_line_cell_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('a,b\n1,"first line\nsecond line"\n2,two\n', encoding="utf-8")
    assert list(iter_rows(path)) == [
        (2, {"a": "1", "b": "first line\nsecond line"}),
        (4, {"a": "2", "b": "two"}),
    ]


def test_latin1_export_names_file_line_and_the_encoding_key(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.format(extra="", ambiguous="earlier"), encoding="utf-8")
    export = tmp_path / "latin.csv"
    export.write_bytes(
        ("\n".join([HEADER, row("A1"), row("B2", Addr="1 CAFÉ ST")]) + "\n").encode("latin-1")
    )
    with pytest.raises(ImportError_) as info:
        import_file(export, "incident", mapping, SAMPLE, CTX)
    message = str(info.value)
    assert "latin.csv" in message and "line 3" in message and 'encoding = "latin-1"' in message
    fixed = tmp_path / "m2.toml"
    fixed.write_text('encoding = "latin-1"\n' + mapping.read_text(), encoding="utf-8")
    results = list(import_file(export, "incident", fixed, SAMPLE, CTX))
    assert [r.ok for r in results] == [True, True]


def test_binary_file_and_directory_are_named_as_such(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.format(extra="", ambiguous="earlier"), encoding="utf-8")
    binary = tmp_path / "export.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(ImportError_, match="binary file") as info:
        import_file(binary, "incident", mapping, SAMPLE, CTX)
    assert "export.csv" in str(info.value)
    with pytest.raises(ImportError_, match="is a directory"):
        import_file(tmp_path, "incident", mapping, SAMPLE, CTX)
