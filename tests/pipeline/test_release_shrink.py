"""A release never silently shrinks latest.json: lost input is refused, withdrawals are not."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run_cli
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.pipeline.releasing import Releaser
from openbeat.privacy.policy import load_policy
from openbeat.privacy.pseudonym import key_id
from openbeat.releases import stage_part
from openbeat.releases.shrink import ShrinkCheck, refusal
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

NAMES = TopicNames("unitshrink")
DAY = date(2026, 11, 10)
FIRST = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _incident(n: int, withdrawn: bool = False) -> dict[str, Any]:
    return {
        "public_id": f"{n:032x}",
        "revision": 2 if withdrawn else 1,
        "withdrawn": withdrawn,
        "category": "theft",
        "offense_code": "23H",
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": DAY,
        "occurred_date": DAY,
        "occurred_hour": datetime(2026, 11, 10, 9, tzinfo=UTC),
        "block": "012XX W MAIN ST",
        "district": "D1",
        "latitude": None,
        "longitude": None,
        "location_precision": "block",
        "status": "open",
    }


def _stage(private: LocalStore, records: list[dict[str, Any]], first: int) -> None:
    offsets = range(first, first + len(records))
    stage_part(
        private,
        "incidents",
        NAMES.public("incident"),
        0,
        first,
        first + len(records) - 1,
        zip(offsets, records, strict=True),
    )


def _releaser(tmp_path: Path) -> tuple[Releaser, LocalStore, LocalStore]:
    store, private = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "private", True)
    releaser = Releaser(
        store=store,
        private=private,
        names=NAMES,
        jurisdiction=load_jurisdiction("sample"),
        policy=load_policy(),
        base_url="https://data.example.org",
        license_url=None,
        pseudonym_key_id=key_id(b"a-secret-pseudonym-key-for-tests"),
    )
    return releaser, store, private


def _latest(store: LocalStore) -> dict[str, Any]:
    return dict(json.loads(store.get("datasets/incidents/latest.json")))


def test_a_wiped_private_store_does_not_shrink_the_release(tmp_path: Path) -> None:
    releaser, store, private = _releaser(tmp_path)
    _stage(private, [_incident(i) for i in range(40)], 0)
    (first,) = releaser.cut(["incidents"], FIRST)
    assert first.ok and _latest(store)["rows"] == 40

    # The private store is wiped and refilled with only what came in since.
    shutil.rmtree(tmp_path / "private" / "staging")
    _stage(private, [_incident(100 + i) for i in range(5)], 40)
    (second,) = releaser.cut(["incidents"], SECOND)

    assert not second.ok
    assert "would shrink from 40 rows" in second.errors[0] and "--allow-shrink" in second.errors[0]
    assert _latest(store)["release_id"] == first.release_id
    # Nothing of the refused release was written: the cutoff stays free for the real one.
    assert not store.list(f"datasets/incidents/releases/{second.release_id}/")

    (forced,) = releaser.cut(["incidents"], SECOND, allow_shrink=True)
    assert forced.ok and _latest(store)["rows"] == 5


def test_rows_that_left_by_withdrawal_are_a_real_shrink(tmp_path: Path) -> None:
    releaser, store, private = _releaser(tmp_path)
    _stage(private, [_incident(i) for i in range(10)], 0)
    assert releaser.cut(["incidents"], FIRST)[0].ok
    _stage(private, [_incident(i, withdrawn=True) for i in range(3)], 10)

    (second,) = releaser.cut(["incidents"], SECOND)

    assert second.ok, second.errors
    assert _latest(store)["rows"] == 7


def test_an_empty_private_store_releases_nothing(tmp_path: Path) -> None:
    releaser, store, _ = _releaser(tmp_path)
    (result,) = releaser.cut(["incidents"], FIRST)
    assert not result.ok and "holds no staged records" in result.errors[0]
    assert not store.exists("datasets/incidents/latest.json")


@pytest.mark.parametrize(
    ("rows", "current", "check", "refused"),
    [
        (10, None, ShrinkCheck(), False),
        (0, None, ShrinkCheck(has_input=False), True),
        (0, None, ShrinkCheck(has_input=False, allow=True), False),
        (0, {"rows": 3}, ShrinkCheck(), True),
        (9, {"rows": 10}, ShrinkCheck(), True),
        (9, {"rows": 10}, ShrinkCheck(explained=1), False),
        (10, {"rows": 10}, ShrinkCheck(), False),
        (1, {"rows": 10}, ShrinkCheck(allow=True), False),
    ],
)
def test_the_rule(rows: int, current: Any, check: ShrinkCheck, refused: bool) -> None:
    assert (refusal("incidents", rows, current, check) is not None) is refused


def test_release_on_an_empty_store_exits_non_zero_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env.update(
        {
            "OPENBEAT_STORE": str(tmp_path / "store"),
            "OPENBEAT_ALLOW_DEV_KEY": "1",
            "OPENBEAT_SITE": "false",
        }
    )
    result = run_cli(env, "release", "--dataset", "incidents", check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("openbeat: error: incidents: refused:"), last
    assert not (tmp_path / "store" / "datasets" / "incidents" / "latest.json").exists()
