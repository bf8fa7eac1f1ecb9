"""The release gate's differencing rules: what comparing releases could reveal, checked.

The rules themselves live with the aggregates that define them (`aggregate.differencing`); this
module only hands them published rows, the way a reader holding the releases would:

- **sealed figures never change** (`sealed_changes`): every row of an aggregate dataset's
  previous release is in this release, unchanged. A figure that moved between two releases
  (5 -> 6, 0 -> 5, a survey mean) would place a withheld incident or one person's answer.
- **count minus rows** (`withheld_differences`): for every day this incident-counts release
  seals (the days its previous release did not hold yet; all days of a first release), the
  cell count minus the covered public rows of the same cutoff's incidents release is 0 or at
  least k. Days sealed earlier are covered by the first rule: their figures cannot change,
  and rows that left since were public, so a reader holding both releases learns nothing new.
- **withdrawn ids were public** (`changes.json`): an id listed as removed was a row of the
  previous release, and the change log names that release; nothing is ever published about an
  id that was never public.

Each rule takes the release, its peers and the check rules, and yields problem lines. A rule
whose inputs are not there (no previous release, no same-cutoff incidents) has nothing to say.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from openbeat.aggregate.differencing import sealed_changes, withheld_differences
from openbeat.releases.datasets import DATASETS

if TYPE_CHECKING:
    from openbeat.releases.checks import CheckRules
    from openbeat.releases.gate import Peers, ReleaseView

logger = logging.getLogger(__name__)

# Aggregates whose figures rest on non-public input: sealed, so never changed by a release.
SEALED_DATASETS = (
    "incident-counts",
    "incident-counts-weekly",
    "incident-counts-monthly",
    "engagement-summary",
)
# The incident columns a reader needs to subtract rows from cells.
_CELL_COLUMNS = ["occurred_date", "reported_date", "district", "category"]
_SHOWN = 3  # keys named in a problem line


def _keys(keys: Sequence[tuple[Any, ...]]) -> str:
    shown = ", ".join("/".join(str(part) for part in key) for key in keys[:_SHOWN])
    return shown + (f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else "")


def sealed_figures_unchanged(
    release: ReleaseView, peers: Peers, rules: CheckRules
) -> Iterator[str]:
    """No row of the previous release of a sealed aggregate changed or went missing."""
    previous = peers.previous
    if release.dataset not in SEALED_DATASETS or previous is None:
        return
    key = DATASETS[release.dataset].primary_key
    changed = sealed_changes(previous.rows(), release.rows(), key)
    if changed:
        yield (
            f"differencing: {len(changed)} sealed figure(s) of release {previous.release_id} "
            f"changed or dropped ({_keys(changed)}); a sealed figure never changes"
        )


def count_minus_rows(release: ReleaseView, peers: Peers, rules: CheckRules) -> Iterator[str]:
    """Cells of newly sealed days whose count minus public rows reveals withheld incidents."""
    incidents = peers.same_cutoff.get("incidents")
    if release.dataset != "incident-counts" or incidents is None:
        return
    sealed_before = set()
    if peers.previous is not None:
        sealed_before = {row["date"] for row in peers.previous.rows(["date"])}
    cells = [row for row in release.rows() if row["date"] not in sealed_before]
    bad = withheld_differences(
        cells,
        incidents.rows(_CELL_COLUMNS),
        k=rules.policy.k,
        settle_days=rules.policy.settle_days,
    )
    if bad:
        keys = [(*key, f"difference {difference}") for key, difference in bad]
        yield (
            f"differencing: in {len(bad)} cell(s) count minus the public rows of incidents "
            f"release {incidents.release_id} is 1..k-1 or negative ({_keys(keys)})"
        )


def withdrawn_were_public(release: ReleaseView, peers: Peers, rules: CheckRules) -> Iterator[str]:
    """The change log's removed ids were rows of the previous release it names."""
    changes, previous = release.changes, peers.previous
    if changes is None or previous is None or "public_id" not in previous.column_names():
        return
    if changes.get("previous_release_id") != previous.release_id:
        yield (
            f"changes.json compares with release {changes.get('previous_release_id')}, "
            f"but the previous release is {previous.release_id}"
        )
        return
    removed = (changes.get("ids") or {}).get("removed") or []
    public = {row["public_id"] for row in previous.rows(["public_id"])}
    never = [(str(i),) for i in removed if i not in public]
    if never:
        yield (
            f"differencing: {len(never)} removed id(s) were not rows of release "
            f"{previous.release_id} ({_keys(never)}): nothing may name a never-public id"
        )


SEALED_RULES = (sealed_figures_unchanged, count_minus_rows, withdrawn_were_public)
