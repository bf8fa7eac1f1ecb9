"""`openbeat release` shows how far it got on a terminal: datasets done and the staged records
read of the one being cut; logs and pipes get only the summary lines."""

from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path

import pytest
from test_release_shrink import FIRST, _incident, _releaser, _stage

from openbeat.runtime import commands
from openbeat.runtime.progress import counted


def test_counted_reports_every_n_and_the_total_without_changing_the_items() -> None:
    seen: list[int] = []
    assert list(counted(range(12), seen.append, every=5)) == list(range(12))
    assert seen == [5, 10, 12]
    assert list(counted(iter("ab"), None)) == ["a", "b"]


def test_the_releaser_reports_the_staged_records_it_reads(tmp_path: Path) -> None:
    releaser, _, private = _releaser(tmp_path)
    _stage(private, [_incident(i) for i in range(30)], 0)
    _stage(private, [_incident(100 + i) for i in range(12)], 30)
    seen: list[int] = []
    (result,) = dataclasses.replace(releaser, progress=seen.append).cut(["incidents"], FIRST)
    assert result.ok
    assert seen and seen[-1] == 42


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_release_progress_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    releaser, _, private = _releaser(tmp_path)
    _stage(private, [_incident(i) for i in range(20)], 0)
    monkeypatch.setattr("openbeat.pipeline.wiring.build_releaser", lambda settings: releaser)
    monkeypatch.setenv("OPENBEAT_SITE", "false")
    err = _Terminal(tty)
    monkeypatch.setattr(sys, "stderr", err)
    assert commands.release_command(["incidents"], FIRST.isoformat(), allow_shrink=False) == 0
    if tty:
        assert "staged records read" in err.getvalue()
    else:
        assert err.getvalue() == ""
