"""The alert rules file: the shipped one loads, a bad one is refused naming file and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from openbeat.contracts.offenses import load_offense_table
from openbeat.feeds.rules import ALERT_RULES_FILE, AlertRulesError, load_alert_rules


def test_shipped_rules_load_with_spec_defaults() -> None:
    rules = load_alert_rules()
    assert rules.feed_size == 100
    assert rules.meetings_horizon_days == 14
    assert rules.spike.window_hours == 24
    assert {"homicide", "robbery", "weapons", "assault", "burglary", "arson"} <= set(
        rules.categories
    )
    assert rules.cache_control.startswith("public")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _shipped_with(replace: str, by: str) -> str:
    text = ALERT_RULES_FILE.read_text(encoding="utf-8")
    assert replace in text
    return text.replace(replace, by)


@pytest.mark.parametrize(
    ("replace", "by", "field"),
    [
        ("min_count = 5", "min_count = 0", "spike.min_count"),
        ("factor = 3.0", 'factor = "lots"', "spike.factor"),
        ('base_url = "https://data.riverton.example"', 'base_url = "data.example"', "base_url"),
        ("feed_size = 100", "feed_size = 100\nfeed_sise = 5", "feed_sise"),
        ('# alerts = "{city}: public', 'alerts = "{town}: public', "titles.alerts"),
        ('meeting = "{base_url}/meetings/{public_id}.html"', 'meeting = "{base_url}/{x}"', "links"),
        ('categories = ["homicide"', 'categories = ["robbery", "robbery", "homicide"', "categ"),
    ],
)
def test_bad_rules_name_file_and_field(tmp_path: Path, replace: str, by: str, field: str) -> None:
    path = _write(tmp_path, _shipped_with(replace, by))
    with pytest.raises(AlertRulesError) as err:
        load_alert_rules(path)
    assert str(path) in str(err.value)
    assert f"field {field}" in str(err.value)


def test_invalid_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(AlertRulesError, match="not valid TOML"):
        load_alert_rules(_write(tmp_path, "base_url = "))
    with pytest.raises(AlertRulesError, match="not found"):
        load_alert_rules(tmp_path / "absent.toml")


def test_base_url_override_and_canonical_form() -> None:
    rules = load_alert_rules(base_url="https://feeds.city.example/open/")
    assert rules.feed_url("feeds/alerts.rss") == "https://feeds.city.example/open/feeds/alerts.rss"
    shipped = tomllib.loads(ALERT_RULES_FILE.read_text(encoding="utf-8"))
    assert load_alert_rules().base_url == shipped["base_url"].rstrip("/")


def test_shipped_alert_categories_exist_in_the_offense_table() -> None:
    rules = load_alert_rules()
    assert rules.unknown_categories(load_offense_table().categories) == []
    assert rules.unknown_categories({"robbery"}) == sorted(set(rules.categories) - {"robbery"})
