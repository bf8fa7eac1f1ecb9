"""Running `openbeat` in tests the way a user does: a subprocess from the repository root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`openbeat ARGS` with `env`; with `check`, a non-zero exit fails the test with its stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "openbeat.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result
