"""The release gate's typed checks (issue 9.6) and the name registry (9.5), on their own.

Attacks the old text scan missed: an exact point and a block "JOHN SMITH RESIDENCE"; and it
flagged the anonymizer's own `0000X` blocks. `openbeat verify` and the publisher run them on every
release (test_release_gate.py, tests/pipeline/test_publisher_gate.py).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from openbeat.contracts.offenses import load_offense_table
from openbeat.paths import JURISDICTIONS_DIR
from openbeat.privacy.grid import snap
from openbeat.privacy.names import NameRegistry, load_name_registry
from openbeat.privacy.policy import load_policy
from openbeat.privacy.pseudonym import DEV_KEY_ID, key_id
from openbeat.releases.checks import CheckRules, check_rows
from openbeat.releases.gate import key_problem

RULES = CheckRules(load_policy(), load_offense_table(), ZoneInfo("America/Chicago"))


def _row(**changes: object) -> dict[str, object]:
    lat, lon = snap(41.4812, -88.2811, 250)
    row: dict[str, object] = {
        "public_id": "0" * 32,
        "offense_code": "23H",
        "offense_codes": [],
        "occurred_hour": None,
        "block": "0000X N STATE ST",
        "latitude": lat,
        "longitude": lon,
        "location_precision": "block",
    }
    return row | changes


def test_the_anonymizers_own_output_passes() -> None:
    assert list(check_rows("incidents", [_row()], RULES)) == []


def test_an_exact_point_and_a_name_as_block_are_caught() -> None:
    point = list(check_rows("incidents", [_row(latitude=41.4812, longitude=-88.2811)], RULES))
    assert [c for c, _ in point] == ["latitude"]
    name = list(check_rows("incidents", [_row(block="JOHN SMITH RESIDENCE")], RULES))
    assert [c for c, _ in name] == ["block"]


def test_a_record_on_two_rows_is_caught_and_named_once_per_extra_row() -> None:
    """One row per record (its latest revision): a second row of an id would publish a revision
    that was superseded or withdrawn. The ids are kept packed (16 bytes each), so the check
    stays within a 10M-row release's memory."""
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    rows = [_row(public_id=i) for i in (b, a, c, b, a, b)]
    problems = list(check_rows("incidents", rows, RULES))
    assert problems == [
        ("public_id", f"{a} appears twice (one row per record: its latest revision)"),
        ("public_id", f"{b} appears twice (one row per record: its latest revision)"),
        ("public_id", f"{b} appears twice (one row per record: its latest revision)"),
    ]
    assert list(check_rows("incidents", rows[:3], RULES)) == []
    # Not a pseudonym: said as such, and not counted among the ids.
    bad = list(check_rows("incidents", [_row(public_id="JOHN"), _row(public_id="JOHN")], RULES))
    assert [m for _, m in bad] == ["'JOHN' is not a pseudonym"] * 2


def test_the_development_key_is_refused() -> None:
    assert key_problem({"pseudonym_key_id": DEV_KEY_ID})
    assert key_problem({})
    assert key_problem({"pseudonym_key_id": key_id(b"a-real-secret-0123456789")}) is None


def test_only_listed_names_are_published() -> None:
    names = NameRegistry.of(partners=["Eastgate Library"], venues=["Eastgate Library"])
    public = names.public_partners(["eastgate  library.", "Jane Park", "Sgt Mike Hall"])
    assert public == ["Eastgate Library", "2 other partners"]
    assert names.venue("Pastor Jane Park of Grace Church") is None
    sample = load_name_registry(JURISDICTIONS_DIR / "names" / "sample.toml")
    assert sample.partner("Downtown YMCA") == "Downtown YMCA"
