"""Datasets a jurisdiction does not produce are switched off: never cut, never catalogued."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.pipeline.releasing import ReleaseError, Releaser
from openbeat.privacy.policy import load_policy
from openbeat.privacy.pseudonym import key_id
from openbeat.releases.dictionary import DICTIONARY_KEY
from openbeat.runtime.settings import PublishSettings
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

CUTOFF = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_switched_off_datasets_are_neither_released_nor_listed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    releaser = Releaser(
        store=store,
        private=LocalStore(tmp_path / "private", private=True),
        names=TopicNames("t"),
        jurisdiction=load_jurisdiction("sample"),
        policy=load_policy(),
        base_url="https://data.example.org",
        license_url=None,
        pseudonym_key_id=key_id(b"a-secret-pseudonym-key-for-tests"),
        disabled=frozenset({"community-reports", "engagement-events", "engagement-summary"}),
    )
    assert releaser.enabled == [
        "districts",
        "incident-counts",
        "incident-counts-monthly",
        "incident-counts-weekly",
        "incidents",
        "offense-codes",
    ]
    with pytest.raises(ReleaseError, match="OPENBEAT_DATASETS_OFF"):
        releaser.cut(["community-reports"], CUTOFF)
    # A bad name anywhere in the list cuts nothing (`openbeat release` cuts every dataset in
    # one call), rather than leaving the datasets before it released and the rest not.
    for bad in ("community-reports", "no-such-dataset"):
        with pytest.raises(ReleaseError, match=bad):
            releaser.cut(["districts", bad], CUTOFF)
        assert not store.list("datasets/")
    # Nothing is staged: an empty incidents release from an empty private store is refused
    # unless allowed (releases.shrink), which is beside the point here.
    results = releaser.cut(["incidents", "offense-codes", "districts"], CUTOFF, allow_shrink=True)
    assert all(r.ok for r in results), [r.errors for r in results]
    assert not store.list("datasets/community-reports/")
    catalog = json.loads(store.get("catalog/data.json"))
    names = sorted(d["identifier"].rsplit("/", 1)[1] for d in catalog["dataset"])
    assert names == ["districts", "incidents", "offense-codes"]
    dictionary = json.loads(store.get(DICTIONARY_KEY))
    assert [d["name"] for d in dictionary["datasets"]] == names
    assert {"from": "incidents.offense_code", "to": "offense-codes.code"} in dictionary["joins"]
    (offense_codes,) = results[1:2]
    assert offense_codes.rows > 50  # every NIBRS code of the shipped table


def test_the_setting_names_unknown_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBEAT_DATASETS_OFF", "community-reports, engagement-events")
    assert PublishSettings().disabled_datasets == {"community-reports", "engagement-events"}
    monkeypatch.setenv("OPENBEAT_DATASETS_OFF", "reports")
    with pytest.raises(ValidationError, match="expected dataset names from"):
        PublishSettings()
