"""The release gate's typed checks on the anonymizer's own output (issue 9.6): no false positive.

The old text scan flagged the anonymizer's own `0000X` blocks, so Chicago and NYC releases
failed. Here the shipped sample and the Chicago, NYC and SF fixtures go through the real
importer and `anonymize`, the publisher's `dataset_rows`, and the gate's `check_rows`: every
row must pass. (The same rows reach the gate through Parquet in the pipeline tests, which run
`openbeat verify` on what the services published.)
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from data_files import CHICAGO_CSV, NYC_CSV, SF_CSV
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.validation import ValidationContext
from openbeat.emit.importer import import_file
from openbeat.emit.sample import generate_sample
from openbeat.paths import INFRA_DIR
from openbeat.privacy.anonymize import (
    PUBLIC_ENGAGEMENT,
    PUBLIC_INCIDENT,
    PUBLIC_REPORT,
    AnonymizeContext,
    AnonymizeError,
    anonymize,
)
from openbeat.privacy.policy import load_policy
from openbeat.releases import dataset_rows
from openbeat.releases.checks import CheckRules, check_rows
from openbeat.releases.rows import publishable
from openbeat.releases.staging import StagedRecord

NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEY = b"gate-fixture-tests-key-0123456789"
MAPPINGS = INFRA_DIR / "mappings"
DATASET_OF = {
    PUBLIC_INCIDENT: "incidents",
    PUBLIC_REPORT: "community-reports",
    PUBLIC_ENGAGEMENT: "engagement-events",
}
FIXTURES: dict[str, tuple[Path, str, Path]] = {
    "chicago": (CHICAGO_CSV, "incident", MAPPINGS / "chicago-crimes.toml"),
    "nyc": (NYC_CSV, "report", MAPPINGS / "nyc-311.toml"),
    "sf": (SF_CSV, "incident", MAPPINGS / "sf-incidents.toml"),
}


def _raw(city: str) -> list[tuple[str, dict[str, Any]]]:
    jurisdiction = load_jurisdiction(city)
    if city == "sample":
        return list(generate_sample(3000, 1, jurisdiction, NOW))
    path, kind, mapping = FIXTURES[city]
    ctx = ValidationContext(jurisdiction, load_offense_table(), NOW)
    results = import_file(path, kind, mapping, jurisdiction, ctx)
    return [(kind, r.record) for r in results if r.record is not None]


@cache
def published(city: str) -> dict[str, list[dict[str, Any]]]:
    """The row-level datasets the publisher would cut as of NOW from the city's anonymized
    records."""
    jurisdiction = load_jurisdiction(city)
    anon = AnonymizeContext(load_policy(), KEY, jurisdiction, load_offense_table())
    staged: dict[str, list[StagedRecord]] = {d: [] for d in DATASET_OF.values()}
    for offset, (kind, record) in enumerate(_raw(city)):
        try:
            outputs = anonymize(kind, record, anon)
        except AnonymizeError:
            continue  # the anonymizer dead-letters it: nothing is published
        for output in outputs:
            dataset = DATASET_OF.get(output.full_name)
            if output.channel == "public" and dataset is not None:
                staged[dataset].append(StagedRecord("public", 0, offset, output.record))
    policy, zone = load_policy(), jurisdiction.zone
    return {
        # As the releaser cuts them: the rows old enough to publish as of NOW.
        d: [r for r in dataset_rows(d, items) if publishable(d, r, policy, NOW, zone)]
        for d, items in staged.items()
        if items
    }


def _rules(city: str) -> CheckRules:
    """The rules of the city's gate (`Gate.of`): its zone and its name registry."""
    jurisdiction = load_jurisdiction(city)
    return CheckRules(
        load_policy(),
        load_offense_table(),
        jurisdiction.zone,
        jurisdiction.name_registry,
        cutoff=NOW,
    )


@pytest.mark.parametrize("city", ["sample", "chicago", "nyc", "sf"])
def test_the_anonymizers_own_rows_pass_the_gate(city: str) -> None:
    datasets = published(city)
    assert sum(len(rows) for rows in datasets.values()) > 100, datasets.keys()
    rules = _rules(city)
    for dataset, rows in datasets.items():
        problems = Counter(c for c, _ in check_rows(dataset, rows, rules))
        assert not problems, (city, dataset, problems, list(check_rows(dataset, rows, rules))[:5])


@pytest.mark.parametrize("city", ["chicago", "nyc"])
def test_the_fixtures_really_hold_0000x_blocks(city: str) -> None:
    """The case the old scan got wrong is in the input (else the test above proves little)."""
    dataset = "incidents" if city == "chicago" else "community-reports"
    blocks = {row["block"] for row in published(city)[dataset] if row["block"]}
    assert any(block.startswith("0000X") or block.startswith("000") for block in blocks)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"latitude": 41.881234, "longitude": -87.627812}, "latitude"),  # an exact point
        ({"block": "JOHN SMITH RESIDENCE"}, "block"),
        ({"block": "012XX W MAIN ST ZEBULON QUIXOTIC"}, "block"),  # a name after the type
        ({"block": "1234 W MAIN ST"}, "block"),  # a house number
    ],
)
def test_a_tampered_row_of_real_output_is_caught(change: dict[str, Any], column: str) -> None:
    rows = published("chicago")["incidents"]
    located = next(r for r in rows if r["block"] and r["latitude"] is not None)
    problems = list(check_rows("incidents", [located | change], _rules("chicago")))
    assert [c for c, _ in problems] == [column], problems


def test_the_sample_publishes_registry_names_and_a_planted_one_is_caught() -> None:
    """The sample's engagements name partners and venues (so the first test checks them against
    the registry), and a person's name in either column of a real row is refused."""
    rows = published("sample")["engagement-events"]
    named = next(r for r in rows if r["venue"] and r["partners"])
    assert sum(bool(r["partners"]) for r in rows) > 20
    rules = _rules("sample")
    for change, column in (
        ({"partners": ["Jane Park"]}, "partners"),
        ({"venue": "Jane Park"}, "venue"),
    ):
        problems = list(check_rows("engagement-events", [named | change], rules))
        assert [c for c, _ in problems] == [column], problems
