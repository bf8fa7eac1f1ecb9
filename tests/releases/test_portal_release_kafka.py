"""A real release (sample events through the pipeline) read with the tools portals use:
`frictionless validate` on every Data Package, and a harvester comparing two catalogs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import frictionless
import pytest

from cli_helpers import run_cli
from openbeat.releases import DATASETS

pytestmark = pytest.mark.integration


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _harvest(root: Path) -> dict[str, dict]:
    catalog = json.loads((root / "catalog" / "data.json").read_text())
    return {d["identifier"]: d for d in catalog["dataset"]}


def test_real_release_is_frictionless_valid_and_harvest_stable(
    openbeat_env: dict[str, str],
) -> None:
    env = {**openbeat_env, "OPENBEAT_RELEASE_INTERVAL_S": "86400"}
    run_cli(env, "emit", "--sample", "400", "--seed", "5", "--no-progress")
    run_cli(env, "run", "anonymizer", "--until-idle")
    # The schedule is off while the records are staged, so only `release` below cuts.
    run_cli(
        {**env, "OPENBEAT_RELEASE_INTERVAL_S": "0"},
        "run",
        "publisher",
        "aggregator",
        "--until-idle",
    )
    root = Path(env["OPENBEAT_STORE"])

    first_cutoff = _now()
    first = run_cli(env, "release", "--cutoff", first_cutoff)
    assert "OPENBEAT_PUBLIC_BASE_URL is not set" in first.stderr  # warned loudly
    first_catalog = _harvest(root)
    time.sleep(1.1)
    moved = {**env, "OPENBEAT_PUBLIC_BASE_URL": "https://data.riverton.example/open"}
    run_cli(moved, "release", "--cutoff", _now())
    second_catalog = _harvest(root)

    packages = sorted(root.glob("datasets/*/releases/*/datapackage.json"))
    assert len(packages) == 18  # nine datasets, two releases each
    for package in packages:  # what `frictionless validate PATH` runs
        report = frictionless.validate(str(package))
        assert report.valid, (package, report.flatten(["type", "note"])[:20])
        assert json.loads(package.read_text())["licenses"][0]["name"] == "CC-BY-4.0"

    # Hosting moved (file:// to https://): a harvester finds the same datasets.
    assert set(first_catalog) == set(second_catalog)
    assert len(second_catalog) == 9
    for identifier, entry in second_catalog.items():
        before = first_catalog[identifier]
        assert identifier.startswith("urn:openbeat:sample:datasets/")
        assert entry["issued"] == before["issued"] == first_cutoff
        assert entry["modified"] > before["modified"]
        assert entry["accrualPeriodicity"] == "R/P1D"
        assert entry["license"] == "https://creativecommons.org/licenses/by/4.0/"
        name = identifier.rsplit("/", 1)[1]
        # Every dataset with a time column says its span (the reference tables have none), but
        # for the monthly counts: no month of a 30-day sample is sealed yet (closed + settle).
        has_rows = name != "incident-counts-monthly"
        assert ("temporal" in entry) == (DATASETS[name].time_column is not None and has_rows), name
        stable = f"https://data.riverton.example/open/datasets/{name}/latest/"
        downloads = [d["downloadURL"] for d in entry["distribution"] if d["format"] != "JSON"]
        assert downloads and all(u.startswith(stable) for u in downloads)
        for url in downloads:  # the stable copy holds the newest release's bytes
            rel = url.removeprefix("https://data.riverton.example/open/")
            latest = json.loads((root / f"datasets/{name}/latest.json").read_text())
            release_file = root / latest["release"] / rel.removeprefix(f"datasets/{name}/latest/")
            assert (root / rel).read_bytes() == release_file.read_bytes()
    assert run_cli(moved, "verify", str(root)).returncode == 0
    _query_with_duckdb(root)


def _query_with_duckdb(root: Path) -> None:
    """Every dataset read by DuckDB, from Parquet and from CSV: types, local times, joins."""
    db = duckdb.connect()
    for name in DATASETS:
        latest = root / "datasets" / name / "latest"
        db.execute(
            f"CREATE VIEW {name.replace('-', '_')} AS "
            f"SELECT * FROM read_parquet('{latest / 'data' / 'part-00000.parquet'}')"
        )
        from_csv = db.execute(f"SELECT count(*) FROM read_csv('{latest / 'data.csv'}')").fetchone()
        from_parquet = db.execute(f"SELECT count(*) FROM {name.replace('-', '_')}").fetchone()
        assert from_csv == from_parquet, name
    types = dict(db.execute("SELECT column_name, column_type FROM (DESCRIBE incidents)").fetchall())
    assert types["occurred_date"] == "DATE"
    assert types["occurred_hour"] == "TIMESTAMP WITH TIME ZONE"
    assert types["occurred_hour_local"] == "TIMESTAMP"
    assert db.execute("SELECT count(*) FROM incidents").fetchone()[0] > 0
    # Local hour and local date agree with the UTC hour (the sample city is in Chicago).
    db.execute("SET TimeZone = 'America/Chicago'")
    mismatched = db.execute(
        "SELECT count(*) FROM incidents WHERE occurred_hour IS NOT NULL AND ("
        " occurred_hour_local <> occurred_hour::TIMESTAMP"
        " OR occurred_date <> occurred_hour_local::DATE)"
    ).fetchone()[0]
    assert mismatched == 0
    # Every offense code and district joins its reference table.
    unmatched = db.execute(
        "SELECT count(*) FROM incidents i LEFT JOIN offense_codes o ON i.offense_code = o.code"
        " WHERE o.code IS NULL OR o.category <> i.category"
    ).fetchone()[0]
    assert unmatched == 0
    for table in (
        "incidents",
        "community_reports",
        "engagement_events",
        "incident_counts",
        "engagement_summary",
    ):
        orphans = db.execute(
            f"SELECT DISTINCT t.district FROM {table} t LEFT JOIN districts d ON t.district = d.id"
            " WHERE d.id IS NULL"
        ).fetchall()
        assert {o[0] for o in orphans} <= {"(citywide)"}, (table, orphans)
    # Lists are JSON arrays in the CSV: DuckDB reads them back as lists.
    partners = db.execute(
        f"SELECT partners::VARCHAR[] FROM read_csv('{root}/datasets/engagement-events/latest/"
        "data.csv', types={'partners': 'JSON'})"
    ).fetchall()
    assert partners and all(isinstance(p[0], list) for p in partners)
