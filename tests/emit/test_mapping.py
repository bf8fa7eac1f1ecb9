"""Column mappings: the TOML format, its errors, and how source values become field values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.emit.importer import convert
from openbeat.emit.mapping import (
    FieldRule,
    Mapping,
    MappingError,
    RowError,
    load_mapping,
)
from openbeat.emit.values import convert_value
from openbeat.paths import INFRA_DIR

MAPPINGS = INFRA_DIR / "mappings"


@pytest.fixture(scope="module")
def chicago() -> Jurisdiction:
    return load_jurisdiction("chicago")


REPORT_FIELDS: dict[str, Any] = {
    "report_id": "id",
    "agency_id": {"const": "AG"},
    "submitted_at": {"column": "when", "type": "datetime", "format": "%m/%d/%Y %H:%M"},
    "channel": {"const": "web"},
    "category": {"const": "tip"},
    "district": "district",
}


def mapping(record_kind: str = "report", **fields: Any) -> Mapping:
    """A report mapping with `fields` replacing or adding rules (only `fields` for other kinds)."""
    base = dict(REPORT_FIELDS) if record_kind == "report" else {}
    base.update(fields)
    return Mapping.model_validate({"kind": record_kind, "fields": base, "source": "test.toml"})


ROW = {"id": "R1", "when": "03/01/2014 12:00", "district": "001"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["chicago-crimes", "nyc-311"])
def test_shipped_mappings_load(name: str) -> None:
    loaded = load_mapping(MAPPINGS / f"{name}.toml")
    assert loaded.fields and loaded.source.endswith(f"{name}.toml")


def test_local_time_becomes_utc_across_daylight_saving(chicago: Jurisdiction) -> None:
    winter = convert(dict(ROW, when="03/01/2014 12:00"), mapping(), chicago)
    summer = convert(dict(ROW, when="03/15/2014 12:00"), mapping(), chicago)
    assert winter["submitted_at"] == datetime(2014, 3, 1, 18, 0, tzinfo=UTC)  # CST, UTC-6
    assert summer["submitted_at"] == datetime(2014, 3, 15, 17, 0, tzinfo=UTC)  # CDT, UTC-5


def test_explicit_offsets_and_utc_rules(chicago: Jurisdiction) -> None:
    iso = mapping(submitted_at={"column": "when", "type": "datetime"})
    row = dict(ROW, when="2014-03-01T12:00:00+01:00")
    assert convert(row, iso, chicago)["submitted_at"] == datetime(2014, 3, 1, 11, tzinfo=UTC)
    utc = mapping(submitted_at={"column": "when", "type": "datetime", "timezone": "utc"})
    row = dict(ROW, when="2014-03-01 12:00:00")
    assert convert(row, utc, chicago)["submitted_at"] == datetime(2014, 3, 1, 12, tzinfo=UTC)
    epoch = mapping(submitted_at={"column": "when", "type": "datetime", "format": "epoch_s"})
    row = dict(ROW, when="1393675200")
    assert convert(row, epoch, chicago)["submitted_at"] == datetime(2014, 3, 1, 12, tzinfo=UTC)


def test_bad_date_names_field_and_format(chicago: Jurisdiction) -> None:
    with pytest.raises(RowError) as info:
        convert(dict(ROW, when="2014-03-01"), mapping(), chicago)
    assert info.value.code == "invalid_timestamp"
    assert info.value.field == "submitted_at"
    assert "%m/%d/%Y %H:%M" in str(info.value)


def test_value_maps_with_fallback_unmapped_and_case(chicago: Jurisdiction) -> None:
    m = mapping(
        category={
            "column": "type",
            "map": {"NOISE": "noise"},
            "fallback": {"column": "type2", "map": {"x": "tip"}},
        },
        channel={
            "column": "ch",
            "map": {"Mobile": "app"},
            "ignore_case": True,
            "unmapped": "other",
        },
    )
    row = dict(ROW, type="NOISE", type2="", ch="MOBILE")
    out = convert(row, m, chicago)
    assert (out["category"], out["channel"]) == ("noise", "app")
    row = dict(ROW, type="OTHER", type2="x", ch="fax")
    out = convert(row, m, chicago)
    assert (out["category"], out["channel"]) == ("tip", "other")
    with pytest.raises(RowError) as info:
        convert(dict(ROW, type="OTHER", type2="y", ch="web"), m, chicago)
    assert (info.value.code, info.value.field) == ("unmapped_value", "category")


def test_shared_maps_are_referenced_by_name(tmp_path: Path, chicago: Jurisdiction) -> None:
    path = write(
        tmp_path,
        """
kind = "report"
[maps.channels]
PHONE = "phone"
[fields]
report_id = "id"
agency_id = { const = "AG" }
submitted_at = { column = "when", type = "datetime", format = "%m/%d/%Y %H:%M" }
channel = { column = "ch", map = "channels" }
category = { const = "tip" }
district = "district"
""",
    )
    out = convert(dict(ROW, ch="PHONE"), load_mapping(path), chicago)
    assert out["channel"] == "phone"


def test_types_regex_replace_templates_and_lists(chicago: Jurisdiction) -> None:
    m = mapping(
        "engagement",
        engagement_id={"column": "ref", "regex": r"#(?P<value>\d+)"},
        agency_id={"const": "AG"},
        kind={"const": "forum"},
        status={"const": "held"},
        starts_at={"column": "when", "type": "datetime", "format": "%m/%d/%Y %H:%M"},
        district={"column": "cd", "replace": [[r"^(\d\d) BRONX$", r"BX\1"]]},
        venue_name={"template": "{Hall} ({Room})"},
        public={"column": "open", "type": "bool"},
        attendee_count={"column": "n", "type": "int"},
        partner_organizations={"column": "partners", "type": "list", "split": ";"},
    )
    row = {
        "ref": "event #42", "when": "05/01/2022 18:00", "cd": "04 BRONX", "Hall": "Town Hall",
        "Room": "", "open": "Yes", "n": "1,204", "partners": "YMCA; Library ;",
    }  # fmt: skip
    out = convert(row, m, chicago)
    assert out["engagement_id"] == "42"
    assert out["district"] == "BX04"
    assert out["venue_name"] is None  # a template with an empty part is empty
    assert out["public"] is True and out["attendee_count"] == 1204
    assert out["partner_organizations"] == ["YMCA", "Library"]
    assert out["revision"] == 1 and out["topics"] == []  # schema defaults fill the rest
    with pytest.raises(RowError) as info:
        convert(dict(row, n="many"), m, chicago)
    assert (info.value.code, info.value.field) == ("wrong_type", "attendee_count")
    with pytest.raises(RowError) as info:
        convert(dict(row, open="perhaps"), m, chicago)
    assert (info.value.code, info.value.field) == ("wrong_type", "public")


def test_nested_fields_build_the_nested_record(chicago: Jurisdiction) -> None:
    m = mapping(**{"reporter.name": "who", "reporter.phone": {"column": "tel", "optional": True}})
    out = convert(dict(ROW, who="Ann Lee", tel="312-555-0100"), m, chicago)
    assert out["reporter"] == {"name": "Ann Lee", "phone": "312-555-0100", "email": None}
    assert convert(dict(ROW, who="", tel=""), m, chicago)["reporter"] is None


def test_empty_required_field_is_a_row_error(chicago: Jurisdiction) -> None:
    with pytest.raises(RowError) as info:
        convert(dict(ROW, district=""), mapping(), chicago)
    assert (info.value.code, info.value.field) == ("missing_field", "district")


def test_json_native_values_are_accepted(chicago: Jurisdiction) -> None:
    m = mapping(
        latitude={"column": "geo.lat", "type": "float"},
        longitude={"column": "geo.lon", "type": "float"},
        anonymous={"column": "anon", "type": "bool"},
        report_id={"column": "id"},
    )
    row: dict[str, Any] = dict(ROW, id=123, geo={"lat": 41.9, "lon": -87.6}, anon=True)
    out = convert(row, m, chicago)
    assert (out["report_id"], out["latitude"], out["longitude"]) == ("123", 41.9, -87.6)
    assert out["anonymous"] is True


def test_date_rules_parse_with_their_format(chicago: Jurisdiction) -> None:
    rule = FieldRule(column="dob", type="date", format="%m/%d/%Y")
    assert convert_value(rule, "07/04/1990", chicago, "dob") == date(1990, 7, 4)
    with pytest.raises(RowError):
        convert_value(rule, "1990-07-04", chicago, "dob")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('kind = "report"\n[fields\n', "not valid TOML"),
        ('kind = "crime"\n[fields]\nreport_id = "id"\n', "key kind"),
        (
            'kind = "report"\n[fields]\nreport_id = { column = "a", const = "b" }\n',
            "fields.report_id",
        ),
        ('kind = "report"\n[fields]\nreport_id = { colum = "a" }\n', "fields.report_id.colum"),
        ('kind = "report"\n[fields]\nchannel = { column = "c", map = "nope" }\n', "map 'nope'"),
        ('kind = "report"\n[fields]\nreport_id = { column = "a", regex = "(" }\n', "regular"),
        ('kind = "report"\n[fields]\nreport_id = { column = "a", type = "uuid" }\n', "type"),
    ],
)
def test_bad_mapping_files_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    message = str(info.value)
    assert str(path) in message and expected in message
    assert "\n" not in message.strip()


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "absent.toml")
