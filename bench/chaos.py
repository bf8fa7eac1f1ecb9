"""`make chaos`: the whole pipeline under faults, judged against a clean run of the same input.

One run, against its own broker (port CHAOS_KAFKA_PORT, data in var/chaos/) and a moto S3
server behind a fault proxy (public and private store in separate buckets):

1. the four services run as `openbeat run <service>` subprocesses, each restarted by a
   supervisor whenever it is not running, under a steady emit of sample events;
2. faults (bench/chaos_faults.py): CHAOS_KILLS SIGKILLs of each service, CHAOS_BROKER_KILLS
   broker kill -9 and restart, a CHAOS_OUTAGE_S store outage (the proxy resets every
   connection; moto keeps its data);
3. the emit stops, the services catch up and stop (SIGTERM), a final `--until-idle` pass picks up
   anything left, and one release is cut at a fixed cutoff;
4. a clean pipeline (fresh namespace and buckets, no faults, `openbeat run --until-idle`) gets a
   copy of exactly what the chaos run's raw topics hold, and is released at the same cutoff;
5. both are compared (bench/chaos_compare.py) and bench/chaos.json written, faults or not.

While the faults run, the publisher cuts its periodic releases (every CHAOS_RELEASE_INTERVAL_S)
of the row-level and reference datasets only: sealed aggregates are computed once, from what has
arrived when their period is sealed, so sealing them mid-emit would make them differ from the
clean run by design (arrival timing), not by fault. They are cut in the final release from the
aggregator's checkpoint, which lived through every kill.

Every count is an argument with its default from the environment (CHAOS_*); the defaults are
the issue's: 20 kills per service, 1 broker kill, 60 s outage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.chaos_compare import (
    DEFINITIONS,
    compare_feeds,
    compare_releases,
    compare_staging,
    compare_topics,
    copy_topics,
    feed_objects,
    keep_differences,
    rendered_feeds,
    verdict,
)
from bench.chaos_faults import FaultSchedule, kill_report
from bench.chaos_infra import Broker, FaultProxy, MotoServer
from bench.chaos_services import (
    REPO,
    SERVICES,
    ProgressMonitor,
    ServiceProc,
    SteadyEmitter,
    Supervisor,
)
from openbeat.contracts.codec import SchemaStore
from openbeat.paths import TOPICS_FILE
from openbeat.releases.datasets import DATASETS
from openbeat.runtime.admin import apply_topics
from openbeat.runtime.topics import KINDS, TopicNames, load_topics
from openbeat.store import ObjectStore, open_store

logger = logging.getLogger("bench.chaos")

OUT = Path(__file__).resolve().parent / "chaos.json"
WORK = REPO / "var" / "chaos"
KEY = "testing"
AGGREGATES = "incident-counts,incident-counts-weekly,incident-counts-monthly,engagement-summary"


def _env(name: str, default: float) -> float:
    return float(os.environ.get(f"CHAOS_{name}", default))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kills", type=int, default=int(_env("KILLS", 20)), help="per service")
    p.add_argument("--broker-kills", type=int, default=int(_env("BROKER_KILLS", 1)))
    p.add_argument("--broker-down-s", type=float, default=_env("BROKER_DOWN_S", 5))
    p.add_argument("--outage-s", type=float, default=_env("OUTAGE_S", 60))
    p.add_argument("--rate", type=float, default=_env("RATE", 25), help="events per second")
    p.add_argument("--kill-gap-s", type=float, default=_env("KILL_GAP_S", 1.0))
    p.add_argument("--recovery-timeout-s", type=float, default=_env("RECOVERY_TIMEOUT_S", 180))
    p.add_argument("--release-interval-s", type=int, default=int(_env("RELEASE_INTERVAL_S", 60)))
    p.add_argument("--commit-interval-s", type=float, default=_env("COMMIT_INTERVAL_S", 1.0))
    p.add_argument("--workers", type=int, default=int(_env("ANONYMIZER_WORKERS", 1)))
    p.add_argument("--port", type=int, default=int(_env("KAFKA_PORT", 19444)))
    p.add_argument("--seed", type=int, default=int(_env("SEED", 11)))
    p.add_argument("--out", type=Path, default=Path(os.environ.get("CHAOS_OUT", OUT)))
    return p.parse_args(argv)


class Run:
    """One chaos run and its clean twin: infrastructure, namespaces, stores, environments."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        tag = uuid.uuid4().hex[:6]
        self.chaos = TopicNames(f"chaos-{tag}")
        self.clean = TopicNames(f"clean-{tag}")
        self.broker = Broker(WORK / "kafka", args.port)
        self.moto: MotoServer | None = None
        self.proxy: FaultProxy | None = None
        self.services: dict[str, ServiceProc] = {}
        self.supervisor: Supervisor | None = None

    # -- setup -------------------------------------------------------------------------------

    def start_infra(self) -> None:
        self.broker.reset()
        self.broker.start()
        self.moto = MotoServer(WORK / "moto.log")
        self.proxy = FaultProxy(self.moto.port)
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.moto.url,
            aws_access_key_id=KEY,
            aws_secret_access_key=KEY,
            region_name="us-east-1",
        )
        for names in (self.chaos, self.clean):
            for side in ("public", "private"):
                s3.create_bucket(Bucket=self.bucket(names, side))
            apply_topics(self.broker.bootstrap, load_topics(TOPICS_FILE, names))

    def bucket(self, names: TopicNames, side: str) -> str:
        return f"{names.namespace}-{side}"

    def env(self, names: TopicNames, via_proxy: bool, **extra: str) -> dict[str, str]:
        assert self.moto is not None and self.proxy is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
        env.update(
            {
                "OPENBEAT_KAFKA_BOOTSTRAP": self.broker.bootstrap,
                "OPENBEAT_TOPIC_NAMESPACE": names.namespace,
                "OPENBEAT_STORE": f"s3://{self.bucket(names, 'public')}/open-data",
                "OPENBEAT_PRIVATE_STORE": f"s3://{self.bucket(names, 'private')}/state",
                "OPENBEAT_S3_ENDPOINT": self.proxy.url if via_proxy else self.moto.url,
                "OPENBEAT_S3_ACCESS_KEY": KEY,
                "OPENBEAT_S3_SECRET_KEY": KEY,
                "OPENBEAT_PUBLIC_BASE_URL": "https://data.example.org/open-data",
                "OPENBEAT_PSEUDONYM_KEY": "chaos-key-0123456789abcdef",
                "OPENBEAT_SITE": "false",
                "OPENBEAT_COMMIT_INTERVAL_S": str(self.args.commit_interval_s),
                "OPENBEAT_ANONYMIZER_WORKERS": str(self.args.workers),
                "OPENBEAT_RELEASE_INTERVAL_S": "0",
                **extra,
            }
        )
        return env

    def store(self, names: TopicNames, side: str) -> ObjectStore:
        assert self.moto is not None
        prefix = "open-data" if side == "public" else "state"
        return open_store(
            f"s3://{self.bucket(names, side)}/{prefix}",
            endpoint_url=self.moto.url,
            access_key=KEY,
            secret_key=KEY,
        )

    def cli(self, env: dict[str, str], *args: str, timeout: float = 900) -> dict[str, Any]:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "openbeat.cli", *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        took = round(time.monotonic() - started, 2)
        if done.returncode != 0:
            logger.warning(
                "openbeat %s exited %d: %s",
                " ".join(args),
                done.returncode,
                done.stderr.strip()[-2000:],
            )
        out: dict[str, Any] = {
            "code": done.returncode,
            "seconds": took,
            "stdout": done.stdout.strip()[-3000:],
        }
        if done.returncode != 0:
            out["stderr"] = done.stderr.strip()[-3000:]
        return out

    def stop_infra(self) -> None:
        if self.supervisor is not None:
            self.supervisor.halt.set()
            self.supervisor.join()
        for svc in self.services.values():  # after a failure midway: leave nothing running
            svc.stop(timeout=10)
        if self.proxy is not None:
            self.proxy.close()
        if self.moto is not None:
            self.moto.stop()
        self.broker.stop()

    # -- the chaos phase ---------------------------------------------------------------------

    def chaos_phase(self, result: dict[str, Any]) -> None:
        args = self.args
        env = self.env(
            self.chaos,
            True,
            OPENBEAT_RELEASE_INTERVAL_S=str(args.release_interval_s),
            OPENBEAT_DATASETS_OFF=AGGREGATES,
        )
        services = {s: ServiceProc(s, env, WORK / "logs" / f"{s}.log") for s in SERVICES}
        self.services = services
        supervisor = self.supervisor = Supervisor(services)
        monitor = ProgressMonitor(self.broker.bootstrap, self.chaos.namespace)
        emitter = SteadyEmitter(
            self.broker.bootstrap, self.chaos, args.rate, args.seed, datetime.now(UTC)
        )
        assert self.proxy is not None
        schedule = FaultSchedule(
            supervisor,
            monitor,
            self.broker,
            self.proxy,
            kills=args.kills,
            broker_kills=args.broker_kills,
            broker_down_s=args.broker_down_s,
            outage_s=args.outage_s,
            kill_gap_s=args.kill_gap_s,
            recovery_timeout_s=args.recovery_timeout_s,
            seed=args.seed,
        )
        started = time.monotonic()
        for svc in services.values():
            svc.start()
        supervisor.start()
        monitor.start()
        emitter.start()
        try:
            warm = {
                s: monitor.wait_advance(s, started, 0, args.recovery_timeout_s) for s in SERVICES
            }
            result["warmup_s"] = {
                s: None if t is None else round(t - started, 2) for s, t in warm.items()
            }
            schedule.run()
            time.sleep(5)  # a last stretch of steady input after the faults
        except BaseException:
            emitter.abort.set()
            self._faults(result, schedule, supervisor)  # what was measured until the failure
            raise
        finally:
            emitter.halt.set()
            emitter.join(timeout=240)
        result["input"] = {
            "events_sent": emitter.sent,
            "acknowledged": emitter.acked,
            "sends_retried": emitter.resent,
        }
        result["caught_up_s"] = self._wait_caught_up(monitor)
        supervisor.halt.set()
        supervisor.join()
        monitor.halt.set()
        stops = {s: svc.stop() for s, svc in services.items()}
        result["chaos_run_s"] = round(time.monotonic() - started, 2)
        result["service_stop_codes"] = stops
        self._faults(result, schedule, supervisor)

    def _faults(self, result: dict[str, Any], schedule: FaultSchedule, sup: Supervisor) -> None:
        figures = schedule.figures
        result["kills"] = kill_report(figures, sup, self.args.kills)
        result["broker"] = figures.broker
        result["broker_restarts"] = len(figures.broker)
        result["store_outages"] = figures.outages
        result["outage_seconds"] = round(sum(o["seconds"] for o in figures.outages), 2)

    def _wait_caught_up(self, monitor: ProgressMonitor, quiet_s: float = 15.0) -> float | None:
        """Seconds until no group's committed offsets moved for `quiet_s` (None: never)."""
        began = time.monotonic()
        while time.monotonic() - began < self.args.recovery_timeout_s * 2:
            last = max((t for t, _, _ in monitor.snapshot()), default=began)
            if time.monotonic() - max(last, began) >= quiet_s:
                return round(last - began, 2)
            time.sleep(1)
        return None

    # -- the end: final pass, releases, the clean twin, comparison ---------------------------

    def finish(self, result: dict[str, Any]) -> None:
        chaos_env = self.env(self.chaos, True)
        tail = self.cli(chaos_env, "run", *SERVICES, "--until-idle")
        result["final_until_idle_pass"] = tail
        cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result["cutoff"] = cutoff
        result["release_chaos"] = self.cli(chaos_env, "release", "--cutoff", cutoff)

        clean_env = self.env(self.clean, False)
        raw = [(self.chaos.raw(k), self.clean.raw(k)) for k in KINDS]
        result["input"]["raw_messages"] = copy_topics(self.broker.bootstrap, raw)
        baseline = self.cli(clean_env, "run", *SERVICES, "--until-idle")
        result["clean_run"] = baseline
        result["baseline_s"] = baseline["seconds"]
        result["release_clean"] = self.cli(clean_env, "release", "--cutoff", cutoff)
        feeds = self._feeds()
        verified = {
            "chaos": self.cli(chaos_env, "verify", chaos_env["OPENBEAT_STORE"]),
            "clean": self.cli(clean_env, "verify", clean_env["OPENBEAT_STORE"]),
        }
        result["verify"] = {k: v["code"] == 0 for k, v in verified.items()}
        # What a failing verify said (its problems name objects and rules, never personal data).
        result["verify_problems"] = {
            k: v["stdout"] + "\n" + v.get("stderr", "") for k, v in verified.items() if v["code"]
        }
        schemas = SchemaStore.load()
        bootstrap = self.broker.bootstrap
        stages = {
            "topics": compare_topics(bootstrap, self.chaos, self.clean, schemas),
            "staging": compare_staging(
                bootstrap,
                self.store(self.chaos, "private"),
                self.store(self.clean, "private"),
                self.chaos,
            ),
            "releases": compare_releases(
                self.store(self.chaos, "public"), self.store(self.clean, "public"), DATASETS
            ),
            "feeds": feeds,
        }
        result["stages"] = stages
        result.update(verdict(stages))
        # A failed clean run is no baseline: nothing compared with it means anything.
        result["baseline_ok"] = baseline["code"] == 0 and result["release_clean"]["code"] == 0
        result["equal"] = result["equal"] and result["baseline_ok"]

    def _feeds(self) -> dict[str, Any]:
        """Feeds judged as rendered from each alerter's checkpoint at one instant; the
        published files (written at different times) are compared too, for the record."""
        import tempfile

        at = datetime.now(UTC)
        base = self.env(self.chaos, False)["OPENBEAT_PUBLIC_BASE_URL"]
        with tempfile.TemporaryDirectory() as tmp:
            rendered = [
                rendered_feeds(names, self.store(names, "private"), Path(tmp) / side, base, at)
                for names, side in ((self.chaos, "chaos"), (self.clean, "clean"))
            ]
        figures = compare_feeds(*rendered)
        keep_differences(WORK / "diff" / "rendered-feeds", *rendered)
        published = [feed_objects(self.store(n, "public")) for n in (self.chaos, self.clean)]
        figures["published"] = compare_feeds(*published)
        keep_differences(WORK / "diff" / "published-feeds", *published)
        figures["rendered_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return figures


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    args = parse(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    for old in ("diff", "logs"):  # this run's alone
        shutil.rmtree(WORK / old, ignore_errors=True)
    run = Run(args)
    started = time.monotonic()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_at_start": os.getloadavg()[0],
        },
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "definitions": DEFINITIONS,
    }
    try:
        run.start_infra()
        run.chaos_phase(result)
        run.finish(result)
    except BaseException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        logger.exception("chaos run failed")
    finally:
        run.stop_infra()
        result["machine"]["load_at_end"] = os.getloadavg()[0]
        result["total_s"] = round(time.monotonic() - started, 2)
        args.out.write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
        print(
            f"chaos: equal={result.get('equal')} lost={result.get('records_lost')} "
            f"duplicated={result.get('records_duplicated')}; results in {args.out}"
        )
    return 0 if result.get("equal") else 1


if __name__ == "__main__":
    sys.exit(main())
