"""The release gate checks partner and venue names against the jurisdiction's name registry.

The anonymizer publishes a partner or venue only in the registry's spelling (unlisted partners
become one "N other partners" entry, an unlisted venue null: `privacy.names`), but the gate did
not check it: `openbeat verify` and the publisher built their gate without the registry, so a
release with a person's name in the partners column passed both. Here the gate rule on its own,
then the attack: "Jane Park" planted in a release is refused by `openbeat verify` (which passed
it before, as a gate without the registry still does) and by the publisher before any upload.
A refusal names the column and the row's public id, never the name itself.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from release_inputs import CUTOFF, TEST_KEY_ID

from canaries import PERSON_NAMES
from cli_helpers import run_cli
from openbeat.contracts.examples import example_engagement
from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.messages import load_messages
from openbeat.pipeline.releasing import Releaser
from openbeat.privacy.anonymize import AnonymizeContext, anonymize
from openbeat.privacy.policy import load_policy
from openbeat.releases import ReleaseContext, build_release, stage_part, verify_tree
from openbeat.releases.checks import CheckRules, check_rows
from openbeat.releases.gate import Gate
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

SAMPLE = load_jurisdiction("sample")
PARTNER, VENUE = "Downtown YMCA", "Eastgate Public Library"  # both in the sample's registry
PLANTED = "Jane Park"
PREFIX = "datasets/engagement-events/releases/2026-11-25T120000Z/"


def _rules(jurisdiction: Jurisdiction = SAMPLE) -> CheckRules:
    gate = Gate.of(jurisdiction)
    return CheckRules(load_policy(), load_offense_table(), jurisdiction.zone, gate.names)


def event(n: int, **changes: Any) -> dict[str, Any]:
    """A public engagement event as the anonymizer writes it for the sample (registry names)."""
    starts = CUTOFF + timedelta(days=1 + n % 5)
    return {
        "public_id": f"e{n:031x}",
        "kind": "community_meeting",
        "status": "scheduled",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "district": "D1",
        "venue": VENUE,
        "block": "001XX N OAK ST",
        "attendee_count": None,
        "partners": [PARTNER, "2 other partners"],
        "topics": ["traffic_safety"],
    } | changes


def _problems(rows: list[dict[str, Any]], jurisdiction: Jurisdiction = SAMPLE) -> list[str]:
    return [f"{c}: {m}" for c, m in check_rows("engagement-events", rows, _rules(jurisdiction))]


def test_registry_names_and_the_count_pass() -> None:
    rows = [
        event(1),
        event(2, partners=["1 other partner"], venue=None),
        event(3, partners=["Northside Boys & Girls Club", "Downtown YMCA", "12 other partners"]),
        event(4, partners=[]),
    ]
    assert _problems(rows) == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_anonymizers_count_passes_in_either_language(language: str) -> None:
    """The data carries "N other partners" whatever the language; the message catalogue says it
    to residents ("2 other partners", "otras 2 organizaciones"). The anonymizer's own record
    for a city in either language passes the gate."""
    city = SAMPLE.model_copy(update={"language": language})
    ctx = AnonymizeContext(
        load_policy(), b"gate-names-test-key-0123456789", city, load_offense_table()
    )
    raw = example_engagement(partner_organizations=[PARTNER, *PERSON_NAMES[:2]], venue_name=VENUE)
    [out] = anonymize("engagement", raw, ctx)
    assert out.record["partners"] == [PARTNER, "2 other partners"]
    said = load_messages(language).partners(out.record["partners"])
    assert (
        said
        == {"en": f"{PARTNER}, 2 other partners", "es": f"{PARTNER}, otras 2 organizaciones"}[
            language
        ]
    )
    row = event(1, partners=out.record["partners"], venue=out.record["venue"])
    assert _problems([row], city) == []


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"partners": [PARTNER, PLANTED]}, "partners"),
        ({"partners": ["Downtown YMCA Jane Park"]}, "partners"),  # a listed name, a person added
        ({"partners": ["2 other partners, Jane Park"]}, "partners"),  # not the count form
        ({"venue": PLANTED}, "venue"),
        ({"venue": PARTNER}, "venue"),  # a listed partner is not a listed venue
    ],
)
def test_an_unlisted_name_fails_naming_the_column_and_row(
    change: dict[str, Any], column: str
) -> None:
    row = event(7, **change)
    [line] = _problems([event(1), row])
    assert line.startswith(f"{column}: row {row['public_id']}: a name not in the registry"), line
    assert "jane" not in line.casefold() and "ymca" not in line.casefold(), line


def test_a_gate_without_the_registry_checks_no_names() -> None:
    """Why both callers must pass the registry: without it the rule has nothing to check."""
    rules = CheckRules(load_policy(), load_offense_table(), SAMPLE.zone)
    assert list(check_rows("engagement-events", [event(1, partners=[PLANTED])], rules)) == []


def _published(tmp_path: Path, context: ReleaseContext, rows: list[dict[str, Any]]) -> Path:
    root = tmp_path / "root"
    result = build_release(LocalStore(root), "engagement-events", rows, CUTOFF, context)
    assert result.ok, result.errors
    return root


def _verify(root: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env["OPENBEAT_JURISDICTION"] = "sample"
    result = run_cli(env, "verify", str(root), check=False)
    return result.returncode, result.stdout + result.stderr


def test_openbeat_verify_passes_registry_names(tmp_path: Path, context: ReleaseContext) -> None:
    code, out = _verify(_published(tmp_path, context, [event(i) for i in range(1, 6)]))
    assert code == 0 and "verify OK" in out, out


@pytest.mark.parametrize("column", ["partners", "venue"])
def test_openbeat_verify_refuses_a_planted_person_name(
    tmp_path: Path, context: ReleaseContext, column: str
) -> None:
    rows = [event(i) for i in range(1, 6)]
    rows[2] = rows[2] | ({"partners": [PARTNER, PLANTED]} if column == "partners" else {})
    rows[2] = rows[2] | ({"venue": PLANTED} if column == "venue" else {})
    root = _published(tmp_path, context, rows)
    # Before: the gate verify built had no registry, and the release passed.
    assert verify_tree(LocalStore(root)).ok
    code, out = _verify(root)
    assert code != 0, out
    expected = f"release gate: column {column}: row {rows[2]['public_id']}: a name not in the"
    assert expected in out, out
    assert PLANTED not in out  # the refusal does not repeat the name


def _releaser(tmp_path: Path, records: list[dict[str, Any]]) -> Releaser:
    names = TopicNames("gatenames")
    store, private = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "private", True)
    staged = [r | {"revision": 1, "withdrawn": False} for r in records]
    topic = names.public("engagement")
    stage_part(private, "engagements", topic, 0, 0, len(staged) - 1, enumerate(staged))
    return Releaser(
        store=store,
        private=private,
        names=names,
        jurisdiction=SAMPLE,
        policy=load_policy(),
        base_url="https://data.example.org",
        license_url=None,
        pseudonym_key_id=TEST_KEY_ID,
    )


def test_the_publisher_refuses_a_planted_person_name(tmp_path: Path) -> None:
    cutoff = datetime(2026, 11, 25, 12, tzinfo=UTC)
    good = _releaser(tmp_path / "good", [event(1), event(2)])
    [result] = good.cut(["engagement-events"], cutoff)
    assert result.ok, result.errors
    bad = _releaser(tmp_path / "bad", [event(1), event(2, partners=[PLANTED])])
    # Before: the publisher's gate had no registry, and the release was published.
    [before] = dataclasses.replace(bad, gate=Gate()).cut(["engagement-events"], cutoff)
    assert before.ok, before.errors
    bad = _releaser(tmp_path / "bad2", [event(1), event(2, partners=[PLANTED])])
    [result] = bad.cut(["engagement-events"], cutoff)
    assert not result.ok
    assert any("column partners: row e" in e for e in result.errors), result.errors
    assert not any(PLANTED in e for e in result.errors), result.errors
    assert bad.store.list("datasets/engagement-events/") == []
