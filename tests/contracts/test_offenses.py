"""The NIBRS offense-code table: complete, consistent, and loaded with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from openbeat.contracts.offenses import Offense, OffenseTable, OffenseTableError, load_offense_table

# Every offense of the NIBRS User Manual's Group A and Group B lists (2021+ editions, including
# the federal/tribal-only offenses), typed out independently of the data file.
GROUP_A_LINES = (
    "09A 09B 09C 100 11A 11B 11C 11D 120 13A 13B 13C 200 210 220",
    "23A 23B 23C 23D 23E 23F 23G 23H 240 250 26A 26B 26C 26D 26E 26F 26G 26H 270 280 290",
    "35A 35B 36A 36B 370 39A 39B 39C 39D 40A 40B 40C 510 520 64A 64B 720",
    "101 103 30A 30B 30C 30D 360 49A 49B 49C 521 522 526 58A 58B 61A 61B 620",
)
GROUP_A = [code for line in GROUP_A_LINES for code in line.split(" ")]
GROUP_B = [f"90{letter}" for letter in "ABCDEFGHIJKLMZ"]


@pytest.fixture(scope="module")
def table() -> OffenseTable:
    return load_offense_table()


def test_every_group_a_and_b_code_is_present_in_its_group(table: OffenseTable) -> None:
    for code in GROUP_A:
        offense = table.get(code)
        assert offense is not None, code
        assert offense.group == "A", code
    for code in GROUP_B:
        offense = table.get(code)
        assert offense is not None, code
        assert offense.group == "B", code
    assert table.codes == frozenset(GROUP_A) | frozenset(GROUP_B)


def test_sensitive_offenses_follow_spec_4(table: OffenseTable) -> None:
    # SPEC 4: sex offenses, child abuse and human trafficking are sensitive.
    for code in ("11A", "11B", "11C", "11D", "36A", "36B", "64A", "64B", "90F"):
        assert _get(table, code).sensitive, code
    # Everyday property and public-order offenses are not, or nothing would be mapped.
    for code in ("23F", "240", "220", "290", "90C", "13B"):
        assert not _get(table, code).sensitive, code


def test_every_sex_offense_category_is_sensitive(table: OffenseTable) -> None:
    for offense in table:
        if offense.category in ("sex offense", "human trafficking"):
            assert offense.sensitive, offense.code


def test_public_categories(table: OffenseTable) -> None:
    assert _get(table, "23F").category == "theft"
    assert _get(table, "240").category == "vehicle theft"
    assert _get(table, "120").category == "robbery"
    assert _get(table, "09A").category == "homicide"
    assert _get(table, "35A").category == "drug"
    assert _get(table, "520").category == "weapons"


def test_retired_codes_are_flagged_but_known(table: OffenseTable) -> None:
    assert _get(table, "90A").retired
    assert not _get(table, "90Z").retired
    assert "90A" in table


def test_lookup_is_exact(table: OffenseTable) -> None:
    assert table.get("13a") is None
    assert table.get("999") is None


def _get(table: OffenseTable, code: str) -> Offense:
    offense = table.get(code)
    assert offense is not None, code
    return offense


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "offenses.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (
    '{ code = "13A", name = "Aggravated Assault", group = "A", crime_against = "person", '
    'category = "assault", sensitive = false }'
)


def test_loads_a_custom_table(tmp_path: Path) -> None:
    table = load_offense_table(_write(tmp_path, f"offenses = [{GOOD}]"))
    assert table.codes == {"13A"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"offenses = [{GOOD.replace('person', 'people')}]", "crime_against"),
        (f"offenses = [{GOOD.replace('13A', '13-A')}]", "code"),
        (f"offenses = [{GOOD}, {GOOD}]", "duplicate offense codes: 13A"),
        (
            f"offenses = [{GOOD.replace('sensitive = false', 'sensitive = false, extra = 1')}]",
            "extra",
        ),
        ("offenses = [", "not valid TOML"),
        ("offenses = []", "offenses"),
    ],
)
def test_bad_table_errors_name_file_and_field(tmp_path: Path, text: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(OffenseTableError) as info:
        load_offense_table(path)
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_error_names_the_offense_code(tmp_path: Path) -> None:
    bad = GOOD.replace('"assault"', '"Assault!"')
    path = _write(tmp_path, f"offenses = [{bad}]")
    with pytest.raises(OffenseTableError, match=r"offenses\.0\.category \(offense 13A\)"):
        load_offense_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OffenseTableError, match="not found"):
        load_offense_table(tmp_path / "nope.toml")
