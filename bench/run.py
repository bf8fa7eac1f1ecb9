"""Run every benchmark stage and write bench/results.json.

Figures are ratios against a baseline measured in the same run: the machines are shared and
noisy, so absolute times drift between runs while ratios hold.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
STAGES = ("emitter", "anonymizer", "release", "alerts", "grouped_import", "backfill", "site")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stages", nargs="*", default=list(STAGES), help=f"of {', '.join(STAGES)}")
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("OPENBEAT_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    stages = results.setdefault("stages", {})
    for stage in args.stages:
        module = __import__(f"bench.{stage}", fromlist=["run"])
        print(f"bench: {stage} ...", file=sys.stderr, flush=True)
        started = time.time()
        figures = module.run(bootstrap)
        figures["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        stages[stage] = figures
        print(f"bench: {stage}: {json.dumps(figures)}", file=sys.stderr)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"results in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
