"""On S3, release files are cached as immutable and the latest/ copies briefly."""

from __future__ import annotations

from typing import Any

import pytest
from release_inputs import CUTOFF, incident_row

from openbeat.releases import ReleaseContext, build_release

pytestmark = pytest.mark.integration


def test_release_files_carry_immutable_cache_control(
    s3_store: Any, context: ReleaseContext
) -> None:
    assert build_release(
        s3_store, "incidents", [incident_row(i) for i in range(5)], CUTOFF, context
    ).ok
    prefix = "datasets/incidents/releases/2026-11-25T120000Z/"
    for name in ("data/part-00000.parquet", "data.csv", "manifest.json", "datapackage.json"):
        info = s3_store.head(prefix + name)
        assert info.cache_control == "public, max-age=31536000, immutable", name
    assert s3_store.head("datasets/incidents/latest/data.csv").cache_control == (
        "public, max-age=300"
    )
    assert s3_store.head("datasets/incidents/latest/data.csv").content_type.startswith("text/csv")
    assert "immutable" not in (s3_store.head("datasets/incidents/latest.json").cache_control or "")
