"""The one rule on releases that lose rows: `latest.json` never silently moves backwards in size.

A dataset's releases are cumulative: a row-level row leaves only when its record is withdrawn
(the one path out), sealed aggregate rows never leave, reference tables keep retired codes. So a
release with fewer rows than the current `latest.json` than withdrawals explain means its input
was lost (a private store wiped or re-created, staged parts missing): publishing it would tell
every portal to delete thousands of records. Such a release is refused before any of its files
is written, and so is an empty row-level release cut from a private store holding no staged
record of any dataset (an empty or lost private store; one dataset without records while others
have some is simply empty), unless the operator says the shrink is real
(`openbeat release --allow-shrink`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openbeat.releases.documents import latest_key
from openbeat.store.base import ObjectNotFound, ObjectStore

ALLOW = "openbeat release --allow-shrink"


@dataclass(frozen=True)
class ShrinkCheck:
    """What a release is measured against (besides the current latest.json)."""

    # Rows that may leave since the last release: withdrawn records seen in the input.
    explained: int = 0
    # False when the private store holds no staged part at all (of any row-level dataset).
    has_input: bool = True
    # The operator confirmed the shrink: every release is allowed.
    allow: bool = False


def refusal(
    dataset: str, rows: int, current: dict[str, Any] | None, check: ShrinkCheck
) -> str | None:
    """Why a release of `rows` rows must not be published, or None when it may."""
    if check.allow:
        return None
    if not check.has_input and rows == 0:
        return (
            f"refused: {dataset} would be empty because the private store "
            "(OPENBEAT_PRIVATE_STORE) holds no staged records at all; latest.json not moved "
            f"(restore the store, or `{ALLOW}` if it is really empty)"
        )
    if current is None:
        return None
    before = int(current.get("rows") or 0)
    if rows + check.explained >= before:
        return None
    return (
        f"refused: {dataset} would shrink from {before} rows (release "
        f"{current.get('release_id')}) to {rows}, more than the {check.explained} withdrawn "
        "records explain: its input looks lost (private store wiped?); latest.json not moved "
        f"(`{ALLOW}` if the data really shrank)"
    )


def shrink_refusal(
    store: ObjectStore,
    dataset: str,
    release_id: str,
    rows: int,
    check: Callable[[], ShrinkCheck] | None,
) -> str | None:
    """`refusal` for a built release, before anything is written; only for a release that would
    move latest.json (an older cutoff than the current one is naturally smaller). No `check`:
    not checked (releases built by hand, e.g. tests of changes.json)."""
    if check is None:
        return None
    try:
        current = json.loads(store.get(latest_key(dataset)))
    except (ObjectNotFound, ValueError):
        current = None
    if not isinstance(current, dict):
        current = None
    elif str(current.get("release_id", "")) > release_id:
        return None
    return refusal(dataset, rows, current, check())
