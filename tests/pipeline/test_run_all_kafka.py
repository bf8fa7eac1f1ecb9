"""`openbeat run` with no names runs all four services together until SIGTERM, then stops
cleanly (exit 0) after making its output durable."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import REPO_ROOT, run_cli

pytestmark = pytest.mark.integration


def test_run_all_services_until_sigterm(openbeat_env: dict[str, str], topic_names: Any) -> None:
    env = {**openbeat_env, "OPENBEAT_COMMIT_INTERVAL_S": "0.5", "OPENBEAT_RELEASE_INTERVAL_S": "0"}
    run_cli(env, "emit", "--sample", "400", "--seed", "8", "--no-progress")
    store = Path(env["OPENBEAT_STORE"])
    private = Path(env["OPENBEAT_PRIVATE_STORE"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "openbeat.cli", "run"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Generous: on a loaded 2-core machine four services joining their groups can take
        # minutes. The loop ends as soon as every service has made output durable.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if (
                (store / "feeds" / "alerts.rss").exists()
                and any(private.glob("staging/**/*.avro"))
                and (private / "_internal" / "aggregator" / "state.json").exists()
            ):
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 0, err[-3000:]
    for service in ("anonymizer", "aggregator", "publisher", "alerter"):
        assert f"{service}: consumed" in out
    assert "anonymizer: consumed 400" in out
    assert (private / "_internal" / "aggregator" / "state.json").exists()
    # Private state never reaches the public root.
    assert not (store / "_internal").exists() and not (store / "staging").exists()
