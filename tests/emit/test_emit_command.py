"""`openbeat emit FILE` as a user runs it: the dry run needs no broker, the exit code tells when
too much was rejected, and the rejects file never replaces anything."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from cli_helpers import run_cli
from data_files import SF_CSV

NO_BROKER = "127.0.0.1:9"  # nothing listens there: a dry run must not need it


def env(city: str = "sf") -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    return {**base, "OPENBEAT_JURISDICTION": city, "OPENBEAT_KAFKA_BOOTSTRAP": NO_BROKER}


def emit(*args: str, city: str = "sf") -> subprocess.CompletedProcess[str]:
    return run_cli(env(city), "emit", *args, "--kind", "incident", "--no-progress", check=False)


SF_MAP = "infra/mappings/sf-incidents.toml"


def test_dry_run_of_the_sf_export_counts_every_outcome_without_a_broker(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    result = emit(str(SF_CSV), "--mapping", SF_MAP, "--dry-run", "--rejects", str(rejects))
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("11884 rows: ") and "would be sent" in first
    assert "skipped rows by rule: non_criminal" in result.stdout and "out_of_sf" in result.stdout
    assert rejects.exists() and rejects.read_text() == ""  # asked for, nothing rejected


def test_unmapped_values_are_listed_and_the_reject_rate_fails_the_run(tmp_path: Path) -> None:
    mapping = tmp_path / "thin.toml"
    text = Path(SF_MAP).read_text(encoding="utf-8")
    mapping.write_text(text.replace('"Larceny Theft|Larceny - From Vehicle" = "23F"\n', ""))
    rejects = tmp_path / "rejects.jsonl"
    args = [str(SF_CSV), "--mapping", str(mapping), "--dry-run", "--rejects", str(rejects)]
    ok = emit(*args)
    assert ok.returncode == 0, ok.stderr
    assert "unmapped values of offenses.code" in ok.stdout
    assert "'Larceny Theft|Larceny - From Vehicle'" in ok.stdout
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert lines and all(x["code"] == "unmapped_value" and x["lines"] for x in lines)
    rejects.unlink()
    strict = emit(*args, "--max-reject-rate", "0.01")
    assert strict.returncode == 1 and "--max-reject-rate" in strict.stderr


def test_every_row_rejected_is_a_failure(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    header = SF_CSV.read_text(encoding="utf-8").splitlines()[0]
    export.write_text(header + "\n" + ",".join(["x"] * len(header.split(","))) + "\n")
    result = emit(str(export), "--mapping", SF_MAP, "--dry-run")
    assert result.returncode == 1 and "every row was rejected" in result.stderr


def test_an_existing_rejects_path_is_refused_and_left_alone(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    result = emit(str(SF_CSV), "--mapping", SF_MAP, "--dry-run", "--rejects", str(precious))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert "Traceback" not in result.stderr and precious.read_text() == "keep me"
    device = emit(str(SF_CSV), "--mapping", SF_MAP, "--dry-run", "--rejects", "/dev/null")
    assert device.returncode == 2 and Path("/dev/null").exists()


def test_no_rejects_file_unless_asked(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(SF_CSV.read_bytes()[:20_000].rsplit(b"\n", 1)[0] + b"\n")
    before = set(Path.cwd().iterdir())
    result = emit(str(export), "--mapping", SF_MAP, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert set(Path.cwd().iterdir()) == before and list(tmp_path.iterdir()) == [export]


def test_file_problems_are_one_line(tmp_path: Path) -> None:
    for target, expected in [(tmp_path, "is a directory"), (tmp_path / "no.csv", "not found")]:
        result = emit(str(target), "--mapping", SF_MAP, "--dry-run")
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
