"""Policy files: defaults, overrides, the floor that cannot be lifted, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openbeat.privacy.policy import DEFAULT_POLICY_FILE, FLOOR_DROPPED, PolicyError, load_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_defaults_match_spec_4() -> None:
    policy = load_policy()
    assert policy.k == 5
    assert policy.grid_cell_m == 250
    assert policy.time_truncation == "hour"
    # Issue 9: row-level incidents after 7 days (as Chicago), periods sealed 7 days after close.
    assert policy.publication_delay_days == 7
    assert policy.settle_days == 7
    assert policy.publish_unfounded is False
    assert policy.publish_report_text is False
    assert policy.withhold.juvenile and policy.withhold.confidential
    assert set(policy.dropped_fields) >= FLOOR_DROPPED


def test_an_override_changes_only_what_it_names(tmp_path: Path) -> None:
    path = write(tmp_path, "k = 10\n[withhold]\nconfidential = false\n")
    policy = load_policy(path)
    assert policy.k == 10
    assert policy.withhold.confidential is False
    assert policy.grid_cell_m == 250  # from the defaults
    assert policy.withhold.juvenile  # the other key of the same table, from the defaults


def test_summary_is_json_and_records_the_rules(tmp_path: Path) -> None:
    summary = load_policy(write(tmp_path, "grid_cell_m = 500\n")).summary()
    again = json.loads(json.dumps(summary))
    assert again["grid_cell_m"] == 500
    assert again["k"] == 5
    assert "differential_privacy" not in again
    assert "incident.narrative" in again["dropped_fields"]


def test_the_floor_cannot_be_lifted(tmp_path: Path) -> None:
    path = write(tmp_path, 'dropped_fields = ["incident.persons"]\n')
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(path) in str(err.value)
    assert "dropped_fields" in str(err.value)
    assert "incident.narrative" in str(err.value)


def test_a_misspelled_field_is_an_error(tmp_path: Path) -> None:
    floor = ", ".join(f'"{f}"' for f in sorted(FLOOR_DROPPED))
    path = write(tmp_path, f'dropped_fields = [{floor}, "incident.adress"]\n')
    with pytest.raises(PolicyError, match=r"dropped_fields.*incident\.adress"):
        load_policy(path)


def test_required_public_fields_cannot_be_dropped(tmp_path: Path) -> None:
    floor = ", ".join(f'"{f}"' for f in sorted(FLOOR_DROPPED))
    path = write(tmp_path, f'dropped_fields = [{floor}, "incident.district"]\n')
    with pytest.raises(PolicyError, match="required"):
        load_policy(path)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("k = 1\n", "k"),
        ("grid_cell_m = 5\n", "grid_cell_m"),
        ('time_truncation = "minute"\n', "time_truncation"),
        ("publication_delay_days = -1\n", "publication_delay_days"),
        ("[sensitive]\nwithhold = 3\n", "sensitive.withhold"),
        ("[withhold]\njuvenil = true\n", "withhold.juvenil"),
        ("colour = 1\n", "colour"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(path) in str(err.value)
    assert f"field {field}" in str(err.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.toml")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(write(tmp_path, "k = \n"))


def test_shipped_file_is_the_default() -> None:
    assert load_policy(DEFAULT_POLICY_FILE) == load_policy(None)


def test_the_removed_noise_option_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A city file that still asks for noise must not start as if it had it (issue 9.7)."""
    path = write(tmp_path, "[differential_privacy]\nenabled = true\nepsilon = 0.5\n")
    with pytest.raises(PolicyError, match=r"differential_privacy.*removed") as err:
        load_policy(path)
    assert str(path) in str(err.value)
