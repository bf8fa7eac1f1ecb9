"""Running the streaming services: one, or several in threads, each on its loop.

`service_specs` names every service and how it is built (pipeline.wiring) and run: the
anonymizer on the transactional loop (runtime.loop), the others on the sink loop
(runtime.sink_loop). The aggregator and the alerter are single writers: a copy builds and runs
one only while it holds the service's lease, and stands by otherwise (runtime.lease).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from openbeat.pipeline.wiring import (
    ConfigurationError,
    build_aggregator,
    build_alerter,
    build_anonymizer,
    build_publisher,
    loop_config,
)
from openbeat.runtime.lease import SINGLE_WRITER_CONSUMER, Lease
from openbeat.runtime.lifecycle import StopFlag
from openbeat.runtime.loop import LoopConfig, LoopStats, run_loop
from openbeat.runtime.settings import (
    AlerterSettings,
    AnonymizerSettings,
    PublishSettings,
    RunSettings,
)
from openbeat.runtime.sink_loop import SinkConfig, run_sink_loop
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)


class ServiceFailed(RuntimeError):
    """A service stopped with an error: the message names the service and the cause."""

    def __init__(self, service: str, cause: BaseException) -> None:
        from openbeat.runtime.errors import describe_error

        super().__init__(f"service {service} stopped: {describe_error(cause)}")
        self.service = service
        self.cause = cause


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    build: Callable[[], Any]
    # "transactional": Kafka in, Kafka out (runtime.loop); "sink": Kafka in, object store out.
    loop: str = "transactional"
    # One state for the whole city: one copy writes at a time, the others stand by
    # (runtime.lease); built only once this copy holds the lease.
    single_writer: bool = False


def service_specs() -> dict[str, ServiceSpec]:
    return {
        "anonymizer": ServiceSpec("anonymizer", lambda: build_anonymizer(AnonymizerSettings())),
        "aggregator": ServiceSpec(
            "aggregator", lambda: build_aggregator(PublishSettings()), "sink", single_writer=True
        ),
        "publisher": ServiceSpec("publisher", lambda: build_publisher(PublishSettings()), "sink"),
        "alerter": ServiceSpec(
            "alerter", lambda: build_alerter(AlerterSettings()), "sink", single_writer=True
        ),
    }


# Called with (service, bootstrap, group id, input topics) around a service's run: a context
# manager that shows its progress (runtime/progress.py), or None for none.
Watch = Callable[[str, str, str, Sequence[str]], AbstractContextManager[Any]]


def run_one(
    name: str,
    until_idle: bool,
    instance: str | None,
    stop: StopFlag,
    processor: Any = None,
    watch: Watch | None = None,
) -> tuple[Any, LoopStats]:
    spec = service_specs()[name]
    run = RunSettings()
    config = loop_config(name, run, until_idle, instance)
    if spec.single_writer:
        return _run_single_writer(spec, run, config, until_idle, stop, watch)
    processor = processor if processor is not None else spec.build()
    return _watched(spec, processor, run, config, until_idle, stop, watch)


def _run_single_writer(
    spec: ServiceSpec,
    run: RunSettings,
    config: LoopConfig,
    until_idle: bool,
    stop: StopFlag,
    watch: Watch | None,
) -> tuple[Any, LoopStats]:
    """Stand by until this copy holds the service's lease, then build it (its checkpoint is
    read now, after every earlier holder was fenced) and run it (runtime.lease)."""
    from openbeat.runtime.lease import run_single_writer

    lease = Lease(
        bootstrap=config.bootstrap,
        topic=TopicNames(run.topic_namespace).leases,
        group=f"{config.group_id}-lease",
        client_id=config.client_id,
        instance_id=config.client_id,
    )

    def work() -> tuple[Any, LoopStats]:
        return _watched(spec, spec.build(), run, config, until_idle, stop, watch, lease)

    timeout = run.assignment_timeout_s if until_idle else None
    ran = run_single_writer(lease, stop, work, service=spec.name, timeout_s=timeout)
    return ran if ran is not None else (None, LoopStats())


def _watched(
    spec: ServiceSpec,
    processor: Any,
    run: RunSettings,
    config: LoopConfig,
    until_idle: bool,
    stop: StopFlag,
    watch: Watch | None,
    lease: Lease | None = None,
) -> tuple[Any, LoopStats]:
    topics = processor.input_topics
    shown = watch(spec.name, config.bootstrap, config.group_id, topics) if watch else None
    with shown or nullcontext():
        return _run_loop(spec, processor, run, config, until_idle, stop, lease)


def _run_loop(
    spec: ServiceSpec,
    processor: Any,
    run: RunSettings,
    config: LoopConfig,
    until_idle: bool,
    stop: StopFlag,
    lease: Lease | None,
) -> tuple[Any, LoopStats]:
    """The loop, restarted after transient faults (runtime.supervise); sinks rebuilt afresh.

    A single writer's lost lease is no transient fault: `LeaseLost` leaves the supervisor and
    puts the copy back on standby (runtime.lease)."""
    from openbeat.runtime import state_loss
    from openbeat.runtime.supervise import Backoff, run_supervised

    loop: Callable[[Any, LoopStats], object]
    if spec.loop == "sink":
        sink = SinkConfig(
            bootstrap=config.bootstrap,
            group_id=config.group_id,
            client_id=config.client_id,
            until_idle=until_idle,
            max_batch=run.max_batch,
            commit_interval_s=run.commit_interval_s,
            idle_assignment_timeout_s=run.assignment_timeout_s,
            deadletter_topic=TopicNames(run.topic_namespace).deadletter,
            service=spec.name,
            consumer_options=tuple(SINGLE_WRITER_CONSUMER.items()) if lease else (),
        )
        loop = state_loss.guarded(
            spec.name, sink, lambda p, st: run_sink_loop(p, sink, stop, st, lease)
        )
    else:
        loop = lambda p, stats: run_loop(p, config, stop, stats=stats)  # noqa: E731
    return run_supervised(
        spec.name,
        processor,
        loop,
        stop=stop,
        bootstrap=config.bootstrap,
        backoff=Backoff(max_s=run.retry_max_s),
        rebuild=spec.build if spec.loop == "sink" else None,
    )


def serve_metrics(port: int) -> None:
    """Metrics and health for every service of this process (runtime.metrics); 0: off."""
    if port:
        from openbeat.runtime.metrics import serve

        try:
            serve(port)
        except OSError as exc:
            raise ConfigurationError(
                f"OPENBEAT_METRICS_PORT={port}: cannot listen on it ({exc.strerror}); "
                "choose a free port, or 0 for no metrics"
            ) from exc


def run_many(
    names: list[str], until_idle: bool, instance: str | None, watch: Watch | None = None
) -> dict[str, tuple[Any, LoopStats]]:
    """Batch mode runs the services one after another in pipeline order; otherwise in threads.

    `watch` (batch mode only) wraps each service's run, e.g. with a progress line.
    """
    stop = StopFlag()
    stop.install_signal_handlers()
    serve_metrics(RunSettings().metrics_port)
    results: dict[str, tuple[Any, LoopStats]] = {}
    if until_idle or len(names) == 1:
        for name in names:
            try:
                results[name] = run_one(name, until_idle, instance, stop, watch=watch)
            except Exception as exc:
                raise ServiceFailed(name, exc) from exc
        return results
    errors: list[BaseException] = []
    # Build every service here, and let those that fork workers (the anonymizer) fork them now,
    # while this process has a single thread: forking beside running Kafka client threads can
    # leave a child holding a lock no thread will ever release.
    processors: dict[str, Any] = {}
    for name in names:
        if service_specs()[name].single_writer:
            continue  # built once it holds its lease (runtime.lease)
        processors[name] = service_specs()[name].build()
        start = getattr(processors[name], "start", None)
        if callable(start):
            start()

    def target(name: str) -> None:
        try:
            results[name] = run_one(name, until_idle, instance, stop, processors.get(name))
        except Exception as exc:  # a dead service stops the others: no silent half-pipeline
            failure = ServiceFailed(name, exc)
            failure.__cause__ = exc
            errors.append(failure)
            stop.set()
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=target, args=(n,), name=n) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
