"""The release gate: the privacy checks a release must pass before anyone may read it.

One gate, two callers. The publisher runs it on every release it has built, on the local files,
before anything is uploaded, so a failing release is never published (and `latest.json` never
moves to it); `openbeat verify` runs it again on every release of a published tree. It checks:

- **the key**: the manifest records the id of the pseudonym key (`privacy.pseudonym.key_id`);
  a release with public ids made with the public development key, or without a recorded key,
  fails (the publisher lets a development-key release through only with
  OPENBEAT_ALLOW_DEV_KEY=1, loudly; `openbeat verify` never does);
- **typed columns** (`releases.checks`), under the policy the manifest records; partner and
  venue names against the jurisdiction's name registry (`Gate.of`: the publisher and
  `openbeat verify` both build the gate so; a gate without a registry does not check names);
- **differencing** against other releases, through `DIFFERENCING_RULES`: each rule gets the
  release, the release of the same cutoff of every other dataset, and the previous release of
  the same dataset (always in the publisher; in verify always for sealed aggregates and after
  `--previous` for the rest), and returns problems. Rules about
  sealed figures and count-minus-rows live with the aggregates that define them and register
  here (`releases.gate_rules` on `aggregate.differencing`); the gate itself never
  re-implements a privacy rule.

Findings are capped per column (`MAX_PER_COLUMN`) and counted beyond that.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable, load_offense_table
from openbeat.privacy.names import NameRegistry
from openbeat.privacy.policy import Policy, load_policy
from openbeat.privacy.pseudonym import DEV_KEY_ID
from openbeat.releases.checks import CheckRules, check_rows
from openbeat.releases.datasets import DATASETS
from openbeat.releases.documents import MANIFEST_FILE, release_prefix
from openbeat.releases.gate_rules import SEALED_RULES
from openbeat.store.base import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

MAX_PER_COLUMN = 5
KEY_ID_FIELD = "pseudonym_key_id"
_MANIFEST_KEY = re.compile(r"^datasets/([^/]+)/releases/([^/]+)/manifest\.json$")


@dataclass
class ReleaseView:
    """One release as the gate sees it: its manifest and its Parquet file, which a peer view
    fetches only when a rule reads it (`loader`)."""

    dataset: str
    release_id: str
    manifest: Mapping[str, Any]
    path: Path | None = None
    loader: Callable[[], Path | None] | None = field(default=None, repr=False)
    changes: Mapping[str, Any] | None = field(default=None, repr=False)  # its changes.json
    _rows: list[dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def parquet(self) -> Path | None:
        if self.path is None and self.loader is not None:
            self.path, self.loader = self.loader(), None
        return self.path

    def rows(self, columns: list[str] | None = None) -> list[dict[str, Any]]:
        """Every row (cached: several rules may read the same peer), or only `columns` of
        every row (not cached: a large row-level release is read a few columns at a time)."""
        if columns is not None:
            if self._rows is not None:
                return [{c: row[c] for c in columns} for row in self._rows]
            path = self.parquet
            return [] if path is None else pq.read_table(path, columns=columns).to_pylist()
        if self._rows is None:
            path = self.parquet
            self._rows = [] if path is None else pq.read_table(path).to_pylist()
        return self._rows

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        """Rows batch by batch, for the typed checks of a large release."""
        if self._rows is not None:
            yield from self._rows
            return
        path = self.parquet
        if path is None:
            return
        for batch in pq.ParquetFile(path).iter_batches():
            yield from batch.to_pylist()

    def column_names(self) -> list[str]:
        path = self.parquet
        return [] if path is None else list(pq.read_schema(path).names)

    @property
    def zone(self) -> ZoneInfo | None:
        path = self.parquet
        if path is None:
            return None
        meta = pq.read_schema(path).metadata or {}
        zone = meta.get(b"openbeat.timezone")
        return ZoneInfo(zone.decode()) if zone else None


@dataclass(frozen=True)
class Peers:
    """What a differencing rule may compare a release with."""

    same_cutoff: Mapping[str, ReleaseView]  # dataset -> its release with the same release id
    previous: ReleaseView | None  # the previous release of the same dataset, when compared


DifferencingRule = Callable[[ReleaseView, Peers, CheckRules], Iterable[str]]
# The rules of `releases.gate_rules` (sealed figures, count minus rows, withdrawn ids), on
# `aggregate.differencing`'s functions; `register` adds more.
DIFFERENCING_RULES: list[DifferencingRule] = [*SEALED_RULES]


def register(rule: DifferencingRule) -> DifferencingRule:
    """Add a differencing rule to every gate run (a decorator)."""
    if rule not in DIFFERENCING_RULES:
        DIFFERENCING_RULES.append(rule)
    return rule


class StorePeers:
    """The releases of a published tree a differencing rule may compare with, fetched on
    demand (manifest, then Parquet file), each at most once. `releases`: the (dataset,
    release id) pairs of the tree; listed from the store when not given."""

    def __init__(
        self, store: ObjectStore, tmp: Path, releases: list[tuple[str, str]] | None = None
    ) -> None:
        self.store = store
        self.tmp = tmp
        if releases is None:
            releases = sorted(
                (m.group(1), m.group(2))
                for k in store.list("datasets/")
                if (m := _MANIFEST_KEY.match(k))
            )
        self.releases = releases
        self.views: dict[tuple[str, str], ReleaseView | None] = {}

    def of(self, dataset: str, release_id: str, *, previous: bool) -> Peers:
        """The same-cutoff releases of the other datasets and, with `previous`, the newest
        release of this dataset before `release_id` (release ids sort by cutoff)."""
        same = {}
        for other, rid in self.releases:
            if rid == release_id and other != dataset:
                view = self._view(other, rid)
                if view is not None:
                    same[other] = view
        before = None
        if previous:
            ids = [rid for d, rid in self.releases if d == dataset and rid < release_id]
            before = self._view(dataset, max(ids)) if ids else None
        return Peers(same, before)

    def _view(self, dataset: str, release_id: str) -> ReleaseView | None:
        if (dataset, release_id) not in self.views:
            prefix = release_prefix(dataset, release_id)
            try:
                manifest = json.loads(self.store.get(prefix + MANIFEST_FILE))
                parquet = [str(f["path"]) for f in manifest["files"]]
            except (ObjectNotFound, ValueError, KeyError, TypeError):
                self.views[(dataset, release_id)] = None  # reported by its own check
                return None
            parquet = [p for p in parquet if p.endswith(".parquet")][:1]
            self.views[(dataset, release_id)] = ReleaseView(
                dataset,
                release_id,
                manifest,
                loader=lambda: self._fetch(prefix, parquet),
            )
        return self.views[(dataset, release_id)]

    def _fetch(self, prefix: str, parquet: list[str]) -> Path | None:
        if not parquet:
            return None
        local = self.tmp / prefix / parquet[0]
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.store.download(prefix + parquet[0], local)
        except ObjectNotFound:
            return None
        return local


def manifest_policy(manifest: Mapping[str, Any]) -> tuple[Policy, str | None]:
    """The policy the release was cut under (keys this build does not know are ignored), or the
    shipped defaults with a problem when the manifest records none that can be read."""
    recorded = manifest.get("policy")
    if not isinstance(recorded, Mapping):
        return load_policy(), "manifest records no privacy policy"
    known = {k: v for k, v in recorded.items() if k in Policy.model_fields}
    try:
        return Policy.model_validate(known), None
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        return load_policy(), f"manifest policy cannot be read ({first}); checked with defaults"


def manifest_cutoff(release: ReleaseView) -> datetime | None:
    """The cutoff the manifest records (None when it cannot be read: reported elsewhere)."""
    try:
        return datetime.fromisoformat(str(release.manifest["cutoff"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def key_problem(manifest: Mapping[str, Any]) -> str | None:
    """Why the release's public ids cannot be trusted, if they cannot."""
    key_id = manifest.get(KEY_ID_FIELD)
    if not key_id:
        return "no pseudonym key id recorded: cannot tell the ids were made with a secret key"
    if key_id == DEV_KEY_ID:
        return (
            "made with the public development pseudonym key: anyone can recompute its ids; "
            "set OPENBEAT_PSEUDONYM_KEY and re-run the pipeline"
        )
    return None


@dataclass
class Gate:
    """The checks of one deployment (or one verify run); `check` returns problem lines."""

    names: NameRegistry | None = None  # None: partner and venue names are not checked
    zone: ZoneInfo | None = None
    offenses: OffenseTable = field(default_factory=load_offense_table)
    allow_dev_key: bool = False

    @classmethod
    def of(cls, jurisdiction: Jurisdiction, *, allow_dev_key: bool = False) -> Gate:
        """The gate of a deployment: its time zone and its name registry, the very registry
        the anonymizer publishes partners and venues by (`Jurisdiction.name_registry`), so a
        partner or venue the registry does not list fails the gate."""
        return cls(
            names=jurisdiction.name_registry, zone=jurisdiction.zone, allow_dev_key=allow_dev_key
        )

    def check(self, release: ReleaseView, peers: Peers | None = None) -> list[str]:
        problems: list[str] = []
        spec = DATASETS.get(release.dataset)
        # Only public ids come from the key: reference tables and aggregates carry none.
        has_ids = spec is not None and "public_id" in spec.column_names
        key = key_problem(release.manifest) if has_ids else None
        if key is not None:
            if self.allow_dev_key and release.manifest.get(KEY_ID_FIELD) == DEV_KEY_ID:
                logger.warning("%s %s: %s", release.dataset, release.release_id, key)
            else:
                problems.append(key)
        policy, policy_problem = manifest_policy(release.manifest)
        if policy_problem:
            problems.append(policy_problem)
        zone = release.zone or self.zone or ZoneInfo("UTC")
        rules = CheckRules(policy, self.offenses, zone, self.names, manifest_cutoff(release))
        problems += _capped(check_rows(release.dataset, release.iter_rows(), rules))
        for rule in DIFFERENCING_RULES:
            problems += list(rule(release, peers or Peers({}, None), rules))
        return problems


def refused(prefix: str, problems: list[str]) -> list[str]:
    """The errors of a release that failed the gate (none when it passed), logged in one line
    the operator can act on: the release stays unpublished and latest.json does not move."""
    if not problems:
        return []
    logger.error(
        "release %s NOT published: it failed the release gate with %d problem(s): %s",
        prefix,
        len(problems),
        "; ".join(problems[:5]),
    )
    return [f"{prefix}: not published, failed the release gate: {p}" for p in problems]


def _capped(findings: Iterable[tuple[str, str]]) -> list[str]:
    seen: Counter[str] = Counter()
    lines: list[str] = []
    for column, message in findings:
        seen[column] += 1
        if seen[column] <= MAX_PER_COLUMN:
            lines.append(f"column {column}: {message}")
    for column, count in sorted(seen.items()):
        if count > MAX_PER_COLUMN:
            lines.append(f"column {column}: {count - MAX_PER_COLUMN} more problem(s)")
    return lines
