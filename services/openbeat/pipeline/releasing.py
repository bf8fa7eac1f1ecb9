"""Cutting releases: staged public records and the aggregate state in, releases out.

"As of a cutoff" means: row-level datasets hold the latest revision of every record whose
reference time (reported date, submission hour) is before the cutoff less the policy's
publication delay; upcoming engagement events are included (announcing them is the point);
aggregates are **sealed** (`aggregate.sealing`): a period is published once it has closed plus
the policy's settle_days before the publication cutoff, computed then from the public records of
the very parts the row-level datasets are cut from and the aggregator's restricted state, kept in
the sealed ledger (`pipeline.sealed`) and copied unchanged into every later release.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from openbeat.aggregate.counts import engagement_summary, sealed_incident_rows
from openbeat.aggregate.periods import Grain, is_late, last_sealed_day, period_of
from openbeat.aggregate.sealing import Sealed, coarser_counts, published_counts, seal
from openbeat.aggregate.state import PUBLIC_ENGAGEMENTS, PUBLIC_INCIDENTS, AggregateState
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.pipeline.aggregator import CHECKPOINT_KEY, load_aggregate_state
from openbeat.pipeline.sealed import load_sealed, save_sealed
from openbeat.privacy.policy import Policy
from openbeat.releases import (
    DATASET_SOURCES,
    DATASETS,
    ReleaseContext,
    ReleaseResult,
    build_release,
    dataset_tables,
    read_staged,
    staged_offsets,
)
from openbeat.releases.datasets import REFERENCE_DATASETS
from openbeat.releases.gate import Gate, ReleaseView, StorePeers
from openbeat.releases.licenses import DEFAULT_LICENSE_URL
from openbeat.releases.reference import district_rows, offense_code_rows
from openbeat.releases.rows import publishable_mask
from openbeat.releases.shrink import ShrinkCheck
from openbeat.runtime.progress import counted
from openbeat.runtime.topics import TopicNames
from openbeat.store import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

ROW_DATASETS = ("incidents", "community-reports", "engagement-events")
# Incident counts at three grains, all from the one sealed daily ledger.
INCIDENT_COUNT_GRAINS: dict[str, Grain] = {
    "incident-counts": "day",
    "incident-counts-weekly": "week",
    "incident-counts-monthly": "month",
}
AGGREGATE_DATASETS = (*INCIDENT_COUNT_GRAINS, "engagement-summary")
REFERENCE = REFERENCE_DATASETS  # offense-codes, districts: from the shipped table and the city


class ReleaseError(ValueError):
    """A release request that cannot be served (unknown dataset, bad cutoff)."""


@dataclass(frozen=True)
class Releaser:
    """Everything a release needs, built once from settings."""

    store: ObjectStore  # the public root: releases and the catalog
    private: ObjectStore  # staged parts and the aggregator's checkpoint
    names: TopicNames
    jurisdiction: Jurisdiction
    policy: Policy
    base_url: str
    license_url: str | None
    release_interval_s: int = 0
    # Datasets this deployment does not produce (OPENBEAT_DATASETS_OFF): never cut or listed.
    disabled: frozenset[str] = frozenset()
    # `privacy.pseudonym.key_id` of the deployment's pseudonym key, for every manifest (None:
    # no key configured; the gate then refuses releases with public ids).
    pseudonym_key_id: str | None = None
    # The release gate every release must pass before it is uploaded (releases.gate); each
    # release is compared with the dataset's previous published one. The development key
    # passes it only with OPENBEAT_ALLOW_DEV_KEY=1 (loudly); `openbeat verify` never lets it.
    allow_dev_key: bool = False
    # None: Gate.of(jurisdiction, allow_dev_key=...), names checked against its registry.
    gate: Gate | None = None
    # Called with the number of staged records read so far for the dataset being cut (a
    # terminal's progress line, `openbeat release`); None for services and logs.
    progress: Callable[[int], None] | None = None

    @property
    def enabled(self) -> list[str]:
        return [name for name in sorted(DATASETS) if name not in self.disabled]

    def cut(
        self,
        datasets: Iterable[str],
        cutoff: datetime,
        allow_shrink: bool = False,
        starting: Callable[[str], None] | None = None,
    ) -> list[ReleaseResult]:
        """Cut each dataset; a release that would shrink latest.json is refused (releases.shrink)
        unless `allow_shrink`, and comes back with the reason in its errors. Every name is
        checked before anything is cut; `starting(dataset)` is told before each one."""
        wanted = list(datasets)
        for dataset in wanted:
            if dataset not in DATASETS:
                known = ", ".join(sorted(DATASETS))
                raise ReleaseError(f"unknown dataset {dataset!r}: choose from {known}")
            if dataset in self.disabled:
                raise ReleaseError(
                    f"dataset {dataset!r} is switched off by OPENBEAT_DATASETS_OFF; "
                    f"enabled: {', '.join(self.enabled)}"
                )
        results = []
        # The aggregate datasets of one cut share the state they are cut from (reading every
        # staged part back is most of a release's time), dropped once none is left to cut.
        states: dict[datetime, AggregateState] = {}
        for i, dataset in enumerate(wanted):
            if starting is not None:
                starting(dataset)
            results.append(self._one(dataset, cutoff, allow_shrink, states))
            if not any(d in AGGREGATE_DATASETS for d in wanted[i + 1 :]):
                states.clear()
        return results

    def check(self, release: ReleaseView) -> list[str]:
        """The release gate on a release built but not uploaded yet, against what the public
        store holds: the previous release of the dataset and this cutoff's other releases."""
        with tempfile.TemporaryDirectory(prefix="openbeat-gate-") as tmp:
            peers = StorePeers(self.store, Path(tmp))
            gate = self.gate or Gate.of(self.jurisdiction, allow_dev_key=self.allow_dev_key)
            return gate.check(release, peers.of(release.dataset, release.release_id, previous=True))

    def repaired(self) -> Releaser:
        """This releaser, after repairing what a crash mid-release left (releases.repair)."""
        from openbeat.releases.repair import repair_published

        repair_published(
            self.store,
            self.enabled,
            self.jurisdiction,
            self.base_url,
            self.license_url,
            self.release_interval_s,
        )
        return self

    def anything_staged(self) -> bool:
        """Whether the private store holds any staged record at all (of any row dataset): a
        dataset with none while others have some is simply empty; none at all is an empty or
        lost private store (releases.shrink)."""
        return any(staged_offsets(self.private, DATASET_SOURCES[d]) for d in ROW_DATASETS)

    def has_aggregate_state(self) -> bool:
        return self.private.exists(CHECKPOINT_KEY)

    def latest_cutoff(self, dataset: str) -> datetime | None:
        """The cutoff of the dataset's current release, if it has one."""
        try:
            pointer = json.loads(self.store.get(f"datasets/{dataset}/latest.json"))
        except ObjectNotFound:
            return None
        return datetime.fromisoformat(str(pointer["cutoff"]).replace("Z", "+00:00"))

    def _one(
        self,
        dataset: str,
        cutoff: datetime,
        allow_shrink: bool,
        states: dict[datetime, AggregateState],
    ) -> ReleaseResult:
        published_until = self.policy.publication_cutoff(cutoff)
        withdrawn = _Withdrawn()
        if dataset in ROW_DATASETS:
            source = DATASET_SOURCES[dataset]
            staged = withdrawn.count(counted(read_staged(self.private, source), self.progress))
            rows: Iterable[dict[str, Any]] | Iterable[pa.Table] = self._until(
                dataset, dataset_tables(dataset, staged), cutoff
            )
            offsets: dict[str, Any] = staged_offsets(self.private, source)
        elif dataset in REFERENCE:
            rows = (
                offense_code_rows(load_offense_table())
                if dataset == "offense-codes"
                else district_rows(self.jurisdiction)
            )
            offsets = {}
        else:
            rows = self._aggregate_rows(dataset, published_until, states)
            offsets = {
                # Which restricted input, without naming where private state is kept.
                "restricted": "aggregator state",
                "public": {
                    source: staged_offsets(self.private, source)
                    for source in ("incidents", "engagements")
                },
            }
        context = ReleaseContext(
            base_url=self.base_url,
            jurisdiction=self.jurisdiction,
            source_offsets=offsets,
            policy=self.policy.summary(),
            license_url=self.license_url or DEFAULT_LICENSE_URL,
            release_interval_s=self.release_interval_s,
            pseudonym_key_id=self.pseudonym_key_id,
            gate=self.check,
            shrink=lambda: ShrinkCheck(
                explained=withdrawn.n,
                has_input=dataset not in ROW_DATASETS or bool(offsets) or self.anything_staged(),
                allow=allow_shrink,
            ),
        )
        return build_release(self.store, dataset, rows, cutoff, context)

    def _until(
        self, dataset: str, tables: Iterable[pa.Table], cutoff: datetime
    ) -> Iterator[pa.Table]:
        keep = publishable_mask(dataset, self.policy, cutoff, self.jurisdiction.zone)
        for table in tables:
            mask = keep(table)
            yield table if mask is None else table.filter(mask)

    def aggregate_state(self, until: datetime) -> AggregateState:
        """The state the aggregates are cut from: restricted records from the aggregator's
        checkpoint, public records from the very parts the row-level datasets are cut from.

        Taking the public side from staging (with the same cutoff rule as the `incidents` rows)
        means "aggregate cell minus public rows in it" is exactly the withheld part the
        suppression rules protected, even while the aggregator and the publisher run at
        different speeds. A late public incident (`periods.is_late`) is not counted: its day
        was sealed before it was reported.
        """
        state = load_aggregate_state(self.private, self.names)
        staged = AggregateState()
        local_day = until.astimezone(self.jurisdiction.zone).date()
        settle = self.policy.settle_days
        for item in read_staged(self.private, DATASET_SOURCES["incidents"]):
            record = item.record
            if record.get("withdrawn"):
                staged.add(PUBLIC_INCIDENTS, record)
            elif record["reported_date"] <= local_day:
                if is_late(record["occurred_date"], record["reported_date"], settle):
                    record = {**record, "withdrawn": True}  # never counted, whatever came before
                staged.add(PUBLIC_INCIDENTS, record)
        for item in read_staged(self.private, DATASET_SOURCES["engagement-events"]):
            staged.add(PUBLIC_ENGAGEMENTS, item.record)
        for channel in (PUBLIC_INCIDENTS, PUBLIC_ENGAGEMENTS):
            state.tables[channel] = staged.tables[channel]
        return state

    def _sealed(
        self, dataset: str, grain: Grain, until: datetime, states: dict[datetime, AggregateState]
    ) -> Sealed:
        """The dataset's ledger, with every period newly closed and settled sealed into it;
        the state is read only when a period is sealed, once per cut (`states`)."""
        ledger = load_sealed(self.private, dataset, grain)
        until_day = until.astimezone(self.jurisdiction.zone).date()
        k = self.policy.k

        def state() -> AggregateState:
            if until not in states:
                states[until] = self.aggregate_state(until)
            return states[until]

        if dataset == "incident-counts":
            new = seal(
                ledger,
                until_day=until_day,
                settle_days=self.policy.settle_days,
                compute=lambda s, e: sealed_incident_rows(state(), k, start=s, end=e),
                period_key=lambda row: row["date"].isoformat(),
            )
        else:
            new = seal(
                ledger,
                until_day=until_day,
                settle_days=self.policy.settle_days,
                compute=lambda s, e: engagement_summary(
                    state(),
                    k,
                    tz=self.jurisdiction.zone,
                    districts=sorted(self.jurisdiction.district_ids),
                    start=s,
                    end=e,
                ),
                period_key=lambda row: str(row["iso_week"]),
            )
        save_sealed(self.private, dataset, ledger, new)
        return ledger

    def _aggregate_rows(
        self, dataset: str, until: datetime, states: dict[datetime, AggregateState]
    ) -> list[dict[str, Any]]:
        """Sealed rows only, of the periods already settled as of this cutoff."""
        until_day = until.astimezone(self.jurisdiction.zone).date()
        through = last_sealed_day(until_day, self.policy.settle_days)
        if dataset in INCIDENT_COUNT_GRAINS:
            daily = self._sealed("incident-counts", "day", until, states)
            grain = INCIDENT_COUNT_GRAINS[dataset]
            if grain == "day":
                return [r for r in published_counts(daily.rows()) if r["date"] <= through]
            return [
                r
                for r in coarser_counts(daily, grain, self.policy.k)
                if period_of(grain, r["period_start"]).last <= through
            ]
        weekly = self._sealed(dataset, "week", until, states)
        return [
            r
            for r in weekly.rows()
            if date.fromisocalendar(int(r["iso_week"][:4]), int(r["iso_week"][6:]), 7) <= through
        ]


class _Withdrawn:
    """Counts the withdrawn markers among staged records as they stream past: the rows a
    release may have lost since the last one (releases.shrink)."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            if item.record.get("withdrawn"):
                self.n += 1
            yield item


def describe(result: ReleaseResult) -> list[str]:
    """What happened to one release, for the operator."""
    if result.errors:
        return [f"{result.dataset}: FAILED {e}" for e in result.errors]
    state = "written" if result.written else "unchanged (already published)"
    return [
        f"{result.dataset}: release {result.release_id}, {result.rows} rows, {state}",
    ]
