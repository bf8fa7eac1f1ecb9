"""The operator commands behind `openbeat topics|run|release|verify`: settings in, exit code out."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from tqdm import tqdm

from openbeat.runtime.admin import apply_topics
from openbeat.runtime.settings import CommonSettings
from openbeat.runtime.topics import TopicNames, load_topics

logger = logging.getLogger(__name__)


def topics_apply() -> int:
    settings = CommonSettings()
    plan = apply_topics(
        settings.kafka_bootstrap,
        load_topics(settings.topics_file, TopicNames(settings.topic_namespace)),
    )
    for spec in plan.create:
        print(f"created   {spec.name} ({spec.partitions} partitions)")
    for name in plan.unchanged:
        print(f"ok        {name}")
    for line in plan.drift:
        print(f"DRIFT     {line}")
    print(
        f"topics: {len(plan.create)} created, {len(plan.unchanged)} unchanged, "
        f"{len(plan.drift)} drifted",
        file=sys.stderr,
    )
    # Drift is reported, not fixed: changing partitions or retention is an operator decision.
    return 1 if plan.drift else 0


def run_services(names: list[str] | None, until_idle: bool, instance: str | None) -> int:
    """Run the named services, or every service this build has."""
    from openbeat.pipeline.running import run_many, service_specs
    from openbeat.runtime.metrics import service_view

    available = service_specs()
    names = names or list(available)
    missing = [n for n in names if n not in available]
    if missing:
        raise ValueError(
            f"service {missing[0]} is not available yet in this build "
            f"(available: {', '.join(available)})"
        )
    pipeline_order: tuple[str, ...] = ("anonymizer", "aggregator", "publisher", "alerter")
    order = [n for n in pipeline_order if n in names]
    watch = None
    if until_idle and sys.stderr.isatty():  # a progress line on a terminal; logs stay quiet
        from openbeat.runtime.progress import GroupProgress

        def watch(name: str, bootstrap: str, group: str, topics: Sequence[str]) -> GroupProgress:
            return GroupProgress(name, bootstrap, group, topics, sys.stderr)

    results = run_many(order, until_idle, instance, watch)
    for name, (processor, stats) in results.items():
        print(
            f"{name}: consumed {stats.consumed}, produced {stats.produced} "
            f"in {stats.transactions} transactions"
        )
        report = getattr(processor, "report", None)
        if callable(report):
            for line in report():
                print(f"  {line}")
        letters = service_view(name).letters
        if letters is not None and letters.total:
            reasons = ", ".join(f"{code} {n}" for code, n in sorted(letters.by_reason.items()))
            print(f"  dead-lettered {letters.total} records it could not use: {reasons}")
    return 0


def release_command(
    datasets: list[str] | None, cutoff_text: str | None, allow_shrink: bool = False
) -> int:
    from openbeat.pipeline.releasing import describe
    from openbeat.pipeline.wiring import build_releaser
    from openbeat.runtime.settings import PublishSettings

    cutoff = parse_cutoff(cutoff_text)
    releaser = build_releaser(PublishSettings()).repaired()
    names = datasets or releaser.enabled
    # A progress bar on a terminal only (datasets done, and the staged records read of the one
    # being cut); logs and pipes get the summary lines alone.
    tty = sys.stderr.isatty()
    with tqdm(total=len(names), unit="dataset", disable=not tty, leave=False) as bar:

        def show(read: int) -> None:
            bar.set_postfix_str(f"{read:,} staged records read")

        begun: list[str] = []

        def starting(name: str) -> None:
            if begun:  # the one before is done
                bar.update()
            begun.append(name)
            bar.set_description(name)

        releaser = dataclasses.replace(releaser, progress=show if tty else None)
        # One cut for every dataset: the aggregates share the state read for the first of them.
        results = releaser.cut(names, cutoff, allow_shrink, starting)
        bar.update()
    failed = False
    for result in results:
        for line in describe(result):
            print(line)
        failed = failed or bool(result.errors)
    store = releaser.store
    if CommonSettings().site and not failed:
        from openbeat.site import SitePublisher

        site = SitePublisher(store, releaser.jurisdiction, releaser.policy)
        print(f"site: {len(site.publish())} objects written")
    print(f"catalog: {store.url_for('catalog/data.json')}")
    for result in results:
        print(f"latest:  {store.url_for(f'datasets/{result.dataset}/latest.json')}")
    if failed:
        errors = [f"{r.dataset}: {e}" for r in results for e in r.errors]
        more = f" (and {len(errors) - 1} more above)" if len(errors) > 1 else ""
        print(f"openbeat: error: {errors[0]}{more}", file=sys.stderr)
    return 1 if failed else 0


def parse_cutoff(text: str | None) -> datetime:
    """An ISO-8601 instant with an offset (or Z), to the second; now when not given."""
    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"--cutoff {text!r} is not an ISO-8601 time; write e.g. 2026-11-25T12:00:00Z"
        ) from exc
    if value.tzinfo is None:
        raise ValueError(f"--cutoff {text!r} has no UTC offset; add Z, e.g. {text}Z")
    value = value.astimezone(UTC).replace(microsecond=0)
    if value > datetime.now(UTC):
        # A future cutoff would publish records before the policy's publication delay ends.
        raise ValueError(f"--cutoff {text!r} is in the future; give a time up to now")
    return value


def verify_command(root: str, names_file: str | None, previous: str | None = None) -> int:
    """Verify a published tree with the release gate of OPENBEAT_JURISDICTION: the gate the
    publisher runs, partner and venue names checked against the jurisdiction's registry."""
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.releases import verify_tree
    from openbeat.releases.gate import Gate
    from openbeat.store import open_store_from_settings

    settings = CommonSettings()
    store = open_store_from_settings(settings, root)
    names: list[str] = []
    if names_file:
        with open(names_file, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    gate = Gate.of(load_jurisdiction(settings.jurisdiction))
    report = verify_tree(store, forbidden_names=names, previous=previous, gate=gate)
    print(report)
    return 0 if report.ok else 1


def site_command(root: str | None) -> int:
    """Rebuild the site from what the public store holds (e.g. after changing the catalogue)."""
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.privacy.policy import load_policy
    from openbeat.site import SitePublisher
    from openbeat.store import open_store_from_settings

    settings = CommonSettings()
    store = open_store_from_settings(settings, root)
    publisher = SitePublisher(store, load_jurisdiction(settings.jurisdiction), load_policy())
    changed = publisher.publish()
    print(f"site: {len(changed)} objects written; open {store.url_for('index.html')}")
    print("preview it with `openbeat serve` (http://127.0.0.1:8000/)")
    return 0
