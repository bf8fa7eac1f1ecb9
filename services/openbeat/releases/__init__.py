"""Releases: staged public records in, immutable Parquet/CSV releases, pointers and a catalog out.

Entry points: `stage_part` / `read_staged` (staging), `dataset_rows` (row-level datasets),
`build_release` (one release plus latest.json and the catalog), `verify_tree` (the verifier).
"""

from openbeat.releases.builder import (
    ReleaseContext,
    ReleaseResult,
    build_release,
    refresh_catalog,
)
from openbeat.releases.datasets import DATASETS, ColumnSpec, DatasetSpec, get_dataset
from openbeat.releases.documents import release_id_for
from openbeat.releases.rows import DATASET_SOURCES, dataset_rows, dataset_tables
from openbeat.releases.staging import (
    StagedRecord,
    list_parts,
    read_staged,
    stage_part,
    staged_offsets,
)
from openbeat.releases.verify import VerifyReport, verify_tree

__all__ = [
    "DATASETS",
    "DATASET_SOURCES",
    "ColumnSpec",
    "DatasetSpec",
    "ReleaseContext",
    "ReleaseResult",
    "StagedRecord",
    "VerifyReport",
    "build_release",
    "dataset_rows",
    "dataset_tables",
    "get_dataset",
    "list_parts",
    "read_staged",
    "refresh_catalog",
    "release_id_for",
    "stage_part",
    "staged_offsets",
    "verify_tree",
]
