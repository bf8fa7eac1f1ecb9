"""Site-test fixtures: one published store (releases + feeds) and its site, built once."""

from __future__ import annotations

from pathlib import Path

import pytest
from site_store import publish_store

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.privacy.policy import load_policy
from openbeat.site import SitePublisher
from openbeat.store import LocalStore


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    store = publish_store(root)
    SitePublisher(store, load_jurisdiction("sample"), load_policy()).publish()
    return root


@pytest.fixture(scope="session")
def site_store(site_root: Path) -> LocalStore:
    return LocalStore(site_root)
