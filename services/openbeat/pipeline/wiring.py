"""Building each streaming service from settings (pipeline.running runs them)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from openbeat.pipeline.releasing import Releaser
from openbeat.privacy.pseudonym import DEV_PSEUDONYM_KEY, key_id
from openbeat.runtime.loop import LoopConfig, Processor
from openbeat.runtime.settings import (
    AlerterSettings,
    AnonymizerSettings,
    PublishSettings,
    RunSettings,
)
from openbeat.runtime.sink_loop import SinkProcessor
from openbeat.store import ObjectStore

if TYPE_CHECKING:
    from openbeat.contracts.jurisdiction import Jurisdiction
    from openbeat.runtime.settings import CommonSettings
    from openbeat.site.publisher import SiteRebuilder

logger = logging.getLogger(__name__)

MIN_STEP = timedelta(seconds=1)


class ConfigurationError(ValueError):
    """A setting that stops a service from starting; the message names the variable."""


def pseudonym_key(settings: AnonymizerSettings) -> bytes:
    if settings.pseudonym_key is not None:
        key = settings.pseudonym_key.get_secret_value().encode()
        if len(key) < 16:
            raise ConfigurationError(
                "OPENBEAT_PSEUDONYM_KEY is too short: use at least 16 characters, "
                "e.g. the output of `openssl rand -hex 32`"
            )
        return key
    if settings.allow_dev_key:
        logger.warning(
            "OPENBEAT_PSEUDONYM_KEY is not set: using the public development key; "
            "public ids are NOT safe to publish"
        )
        return DEV_PSEUDONYM_KEY
    raise ConfigurationError(
        "OPENBEAT_PSEUDONYM_KEY is not set: set it to a secret of 16+ characters "
        "(e.g. `openssl rand -hex 32`), or OPENBEAT_ALLOW_DEV_KEY=1 for local testing only"
    )


def build_anonymizer(settings: AnonymizerSettings) -> Processor:
    from openbeat.contracts.codec import SchemaStore
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.contracts.offenses import load_offense_table
    from openbeat.pipeline.anonymizer import AnonymizerProcessor
    from openbeat.privacy.policy import load_policy
    from openbeat.runtime.topics import TopicNames

    return AnonymizerProcessor(
        names=TopicNames(settings.topic_namespace),
        schemas=SchemaStore.load(settings.schemas_dir),
        jurisdiction=load_jurisdiction(settings.jurisdiction),
        offenses=load_offense_table(),
        policy=load_policy(settings.policy),
        key=pseudonym_key(settings),
        bootstrap=settings.kafka_bootstrap,
        future_skew=timedelta(seconds=settings.future_skew_seconds),
        workers=settings.anonymizer_workers,
    )


def build_alerter(settings: AlerterSettings) -> SinkProcessor:
    from openbeat.contracts.codec import SchemaStore
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.contracts.offenses import load_offense_table
    from openbeat.feeds import load_alert_rules
    from openbeat.pipeline.alerter import AlerterProcessor
    from openbeat.privacy.policy import load_policy
    from openbeat.runtime.topics import TopicNames
    from openbeat.store import open_stores

    rules = load_alert_rules(settings.alert_rules, base_url=settings.public_base_url)
    unknown = rules.unknown_categories(load_offense_table().categories)
    if unknown:
        logger.warning("alert rules name categories no offense maps to: %s", ", ".join(unknown))
    stores = open_stores(settings)
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    return AlerterProcessor(
        names=TopicNames(settings.topic_namespace),
        schemas=SchemaStore.load(settings.schemas_dir),
        store=stores.public,
        private=stores.private,
        rules=rules,
        jurisdiction=jurisdiction,
        site=site_rebuilder(settings, stores.public, jurisdiction),
        policy=load_policy(settings.policy),
    )


def site_rebuilder(
    settings: CommonSettings, store: ObjectStore, jurisdiction: Jurisdiction
) -> SiteRebuilder | None:
    """The process's site rebuilder for the public store (None with OPENBEAT_SITE=false)."""
    if not settings.site:
        return None
    from openbeat.privacy.policy import load_policy
    from openbeat.site.publisher import shared_rebuilder

    return shared_rebuilder(store, jurisdiction, load_policy(settings.policy))


def build_releaser(settings: PublishSettings) -> Releaser:
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.privacy.policy import load_policy
    from openbeat.runtime.topics import TopicNames
    from openbeat.store import open_stores

    stores = open_stores(settings)
    base_url = public_base_url(settings.public_base_url, stores.public)
    policy = load_policy(settings.policy)
    keys = AnonymizerSettings()  # the manifests record the id (never the key) of its key
    return Releaser(
        store=stores.public,
        private=stores.private,
        names=TopicNames(settings.topic_namespace),
        jurisdiction=load_jurisdiction(settings.jurisdiction),
        policy=policy,
        base_url=base_url,
        license_url=settings.license_url,
        release_interval_s=settings.release_interval_s,
        disabled=settings.disabled_datasets,
        pseudonym_key_id=key_id(pseudonym_key(keys)),
        allow_dev_key=keys.allow_dev_key,
    )


def public_base_url(configured: str | None, store: ObjectStore) -> str:
    """The URL catalog and feed links start with: OPENBEAT_PUBLIC_BASE_URL, or for a local
    folder its file:// URL with a loud warning. An S3 store without it is refused: its
    endpoint URL is not where the public reads, and harvested links would all be wrong."""
    if configured:
        return configured.rstrip("/")
    probe = "catalog/data.json"
    own = store.url_for(probe).removesuffix(probe).rstrip("/")
    if not own.startswith("file:"):
        raise ConfigurationError(
            f"OPENBEAT_PUBLIC_BASE_URL is not set: give the public URL of the store root "
            f"(e.g. https://opendata.example.gov/openbeat); links must not point at {own}"
        )
    logger.warning(
        "OPENBEAT_PUBLIC_BASE_URL is not set: every catalog, download and feed link is a "
        "file:// URL (%s) that works on this machine only; set it before publishing",
        own,
    )
    return own


def build_publisher(settings: PublishSettings) -> SinkProcessor:
    from openbeat.contracts.codec import SchemaStore
    from openbeat.pipeline.publisher import PublisherProcessor
    from openbeat.pipeline.releasing import (
        AGGREGATE_DATASETS,
        REFERENCE,
        ROW_DATASETS,
        describe,
    )
    from openbeat.runtime.topics import TopicNames
    from openbeat.store import open_stores

    releaser = build_releaser(settings).repaired() if settings.release_interval_s > 0 else None
    site = site_rebuilder(settings, releaser.store, releaser.jurisdiction) if releaser else None

    def release(cutoff: datetime) -> list[str]:
        assert releaser is not None
        lines: list[str] = []
        # Row-level datasets come from the parts this publisher staged; aggregates from the
        # aggregator's checkpoint, once there is one. A restarted publisher must not re-cut a
        # slot that is already out (with more input by now, the rebuilt files would clash with
        # the immutable release).
        aggregates = AGGREGATE_DATASETS if releaser.has_aggregate_state() else ()
        names = [d for d in (*ROW_DATASETS, *aggregates, *REFERENCE) if d in releaser.enabled]
        due = [d for d in names if (releaser.latest_cutoff(d) or cutoff - MIN_STEP) < cutoff]
        for result in releaser.cut(due, cutoff):
            lines += describe(result)
        if due and site is not None:
            site.request()
        return lines

    return PublisherProcessor(
        names=TopicNames(settings.topic_namespace),
        schemas=SchemaStore.load(settings.schemas_dir),
        private=open_stores(settings).private,
        release=release if releaser else None,
        release_interval_s=settings.release_interval_s,
    )


def build_aggregator(settings: PublishSettings) -> SinkProcessor:
    from openbeat.contracts.codec import SchemaStore
    from openbeat.pipeline.aggregator import AggregatorProcessor
    from openbeat.runtime.topics import TopicNames
    from openbeat.store import open_stores

    return AggregatorProcessor(
        names=TopicNames(settings.topic_namespace),
        schemas=SchemaStore.load(settings.schemas_dir),
        private=open_stores(settings).private,
    )


def loop_config(name: str, run: RunSettings, until_idle: bool, instance: str | None) -> LoopConfig:
    instance_id = instance or run.instance_id
    namespace = run.topic_namespace
    return LoopConfig(
        bootstrap=run.kafka_bootstrap,
        group_id=f"{namespace}-{name}",
        # Stable per copy: a restarted copy fences its crashed predecessor's open transaction
        # at once instead of waiting for it to time out.
        transactional_id=f"{namespace}-{name}-{instance_id}",
        client_id=f"{namespace}-{name}-{instance_id}",
        max_batch=run.max_batch,
        until_idle=until_idle,
        idle_assignment_timeout_s=run.assignment_timeout_s,
        service=name,
    )
