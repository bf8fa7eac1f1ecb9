"""Shared release-test fixtures: the sample jurisdiction, a release context, incident rows."""

from __future__ import annotations

from typing import Any

import pytest
from release_inputs import BASE_URL, TEST_KEY_ID, incident_row

from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.releases import ReleaseContext


@pytest.fixture(scope="session")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction("sample")


@pytest.fixture
def context(jurisdiction: Jurisdiction) -> ReleaseContext:
    return ReleaseContext(
        base_url=BASE_URL + "/",
        jurisdiction=jurisdiction,
        source_offsets={"openbeat.public.incidents": {"0": 41, "1": 17}},
        policy={"k": 5, "grid_m": 250, "time": "hour"},
        pseudonym_key_id=TEST_KEY_ID,
    )


@pytest.fixture
def incident_rows() -> list[dict[str, Any]]:
    return [incident_row(i) for i in range(60)]
