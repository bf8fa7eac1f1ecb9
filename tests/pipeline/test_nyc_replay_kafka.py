"""Replaying NYC 311 (exact addresses and coordinates) through the emitter and the anonymizer
publishes no exact house number and no original coordinate."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run_cli
from data_files import NYC_CSV
from openbeat.contracts.codec import SchemaStore
from openbeat.privacy.grid import is_cell_centre
from openbeat.privacy.pseudonym import pseudonym

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HUNDRED_BLOCK = re.compile(r"^(\d{3}XX|0000X) \S")


def test_nyc_311_exact_addresses_never_reach_the_public_topic(
    openbeat_env: dict[str, str], topic_names: Any, consume: Callable[..., list], tmp_path: Path
) -> None:
    env = {**openbeat_env, "OPENBEAT_JURISDICTION": "nyc"}
    run_cli(
        env,
        "emit",
        str(NYC_CSV),
        "--kind",
        "report",
        "--mapping",
        "infra/mappings/nyc-311.toml",
        "--rejects",
        str(tmp_path / "rejects.jsonl"),
        "--no-progress",
    )
    run_cli(env, "run", "anonymizer", "--until-idle")

    with NYC_CSV.open(encoding="utf-8", newline="") as f:
        source = {row["Unique Key"]: row for row in csv.DictReader(f)}
    key = env["OPENBEAT_PSEUDONYM_KEY"].encode()
    by_public_id = {
        pseudonym(key, "report", row["Agency"], uid): row for uid, row in source.items()
    }
    schemas = SchemaStore.load()
    messages = consume(topic_names.public("report"))
    published = [schemas.decode(m.value).record for m in messages]

    assert len(published) > 800  # all but the rows without a known district
    exact_addresses = {r["Incident Address"] for r in source.values() if r["Incident Address"]}
    every_byte = b"".join(m.value for m in messages).decode("utf-8", "replace")
    for record in published:
        row = by_public_id[record["public_id"]]
        block = record["block"]
        number = (row["Incident Address"].split() or [""])[0]
        if block is not None:
            assert HUNDRED_BLOCK.match(block) or " / " in block, block
            if number.isdigit():
                assert not re.search(rf"(^|\D){number}(\D|$)", block), (
                    block,
                    row["Incident Address"],
                )
        if row["Latitude"]:
            original = (float(row["Latitude"]), float(row["Longitude"]))
            assert (record["latitude"], record["longitude"]) != original
        if record["latitude"] is not None:
            assert is_cell_centre(record["latitude"], record["longitude"], 250.0)
        assert record["description"] is None  # free text is off by default
    leaked = [a for a in exact_addresses if re.match(r"^\d", a) and a in every_byte]
    assert leaked == []
