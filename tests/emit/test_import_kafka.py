"""Importing the real city exports through the CLI and the broker: every valid row is sent,
every other row is reported; mistakes in the command are one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run_cli
from data_files import DATA

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("export", "kind", "mapping", "jurisdiction"),
    [
        ("chicago_crimes_2014-03.csv", "incident", "chicago-crimes.toml", "chicago"),
        ("nyc_311_2022-05-01.csv", "report", "nyc-311.toml", "nyc"),
    ],
)
def test_real_export_sends_every_valid_row_and_reports_the_rest(
    export: str,
    kind: str,
    mapping: str,
    jurisdiction: str,
    openbeat_env: dict[str, str],
    topic_names: Any,
    consume: Callable[..., list],
    tmp_path: Path,
) -> None:
    from openbeat.emit.importer import count_rows

    rejects = tmp_path / "rejects.jsonl"
    env = {**openbeat_env, "OPENBEAT_JURISDICTION": jurisdiction}

    result = run_cli(
        env,
        "emit",
        str(DATA / export),
        "--kind",
        kind,
        "--mapping",
        f"infra/mappings/{mapping}",
        "--rejects",
        str(rejects),
        "--no-progress",
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    total = count_rows(DATA / export)
    sent = consume(topic_names.raw(kind), expect=total - len(rejected))
    assert len(sent) + len(rejected) == total
    assert f"sent {len(sent)} events" in result.stdout
    assert all(r["line"] > 1 and r["code"] and r["reason"] for r in rejected)
    # Rejections are real data problems, not mapping bugs: a small share of the file.
    assert len(rejected) < total * 0.02


def test_unknown_column_and_bad_mapping_are_one_line(
    openbeat_env: dict[str, str], tmp_path: Path
) -> None:
    source = (REPO / "infra" / "mappings" / "chicago-crimes.toml").read_text()
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(source.replace("Primary Type", "Primary Kind"))
    broken = tmp_path / "broken.toml"
    broken.write_text("[fields\nthis is not toml")
    env = {**openbeat_env, "OPENBEAT_JURISDICTION": "chicago"}
    export = str(DATA / "chicago_crimes_2014-03.csv")

    for mapping, expected in ((renamed, "Primary Kind"), (broken, "broken.toml")):
        result = run_cli(
            env,
            "emit",
            export,
            "--kind",
            "incident",
            "--mapping",
            str(mapping),
            "--rejects",
            str(tmp_path / "r.jsonl"),
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
