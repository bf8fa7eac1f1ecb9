"""The operator commands behind `openbeat topics|run|release|verify`: settings in, exit code out."""

from __future__ import annotations

import logging
import sys

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
    from openbeat.pipeline.wiring import run_many, service_specs

    available = service_specs()
    names = names or list(available)
    missing = [n for n in names if n not in available]
    if missing:
        raise ValueError(
            f"service {missing[0]} is not available yet in this build "
            f"(available: {', '.join(available)})"
        )
    order = [n for n in ("anonymizer", "aggregator", "publisher", "alerter") if n in names]
    results = run_many(order, until_idle, instance)
    for name, (processor, stats) in results.items():
        print(
            f"{name}: consumed {stats.consumed}, produced {stats.produced} "
            f"in {stats.transactions} transactions"
        )
        report = getattr(processor, "report", None)
        if callable(report):
            for line in report():
                print(f"  {line}")
    return 0
