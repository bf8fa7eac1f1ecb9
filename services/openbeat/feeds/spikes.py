"""Spike detection: a district's incidents in the last window far above its recent baseline.

Pure arithmetic over sorted event times (POSIX seconds), so it is cheap to evaluate at every
poll and gives the same answer whatever order the incidents arrived in.

At time t a district spikes when, with W the window and B = baseline_days:
    count(t-W, t] >= min_count  and  count(t-W, t] >= factor * baseline(t)
where baseline(t) is the district's mean count per window over (t-W-B days, t-W]. The spike's
start is found by stepping back hour by hour while the condition still holds, so a continuing
spike keeps the same start (and item guid) from poll to poll.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from openbeat.feeds.rules import SpikeRule

HOUR = 3600
DAY = 24 * HOUR
# How far back the start of a running spike is searched. Incident times are whole hours, so the
# condition can only change on hour boundaries and an hourly walk finds the exact start. A spike
# that has lasted longer than a week is reported as starting a week ago (its guid then moves once
# a day), which is a fair reminder that it is still going on.
MAX_LOOKBACK_HOURS = 7 * 24


@dataclass(frozen=True, slots=True)
class Spike:
    district: str
    start: datetime  # UTC, when the condition began to hold (hour resolution)
    count: int  # incidents in the window ending now
    last_event: datetime  # newest incident time in the window


def _count(times: Sequence[float], lo: float, hi: float) -> int:
    """Number of times in (lo, hi]."""
    return bisect_right(times, hi) - bisect_right(times, lo)


def spiking(times: Sequence[float], at: float, rule: SpikeRule) -> bool:
    """Whether a district whose sorted incident times are `times` spikes at POSIX time `at`."""
    window = rule.window_hours * HOUR
    baseline_span = rule.baseline_days * DAY
    current = _count(times, at - window, at)
    if current < rule.min_count:
        return False
    before = _count(times, at - window - baseline_span, at - window)
    # Mean per window over the baseline span, compared without dividing: current >= f * b * W / S.
    return current * baseline_span >= rule.factor * before * window


def spike_start(times: Sequence[float], now: float, rule: SpikeRule) -> float:
    """Earliest hour boundary (or `now`) from which the condition has held without a break."""
    start = now
    hour = now - (now % HOUR)
    if hour == now:
        hour -= HOUR
    for _ in range(MAX_LOOKBACK_HOURS):
        if not spiking(times, hour, rule):
            break
        start = hour
        hour -= HOUR
    return start


def detect_spikes(
    times_by_district: Mapping[str, Sequence[float]], now: datetime, rule: SpikeRule
) -> list[Spike]:
    """The districts spiking at `now`, sorted by district id. `times` must be sorted ascending."""
    at = now.timestamp()
    window = rule.window_hours * HOUR
    spikes = []
    for district in sorted(times_by_district):
        times = times_by_district[district]
        if not spiking(times, at, rule):
            continue
        start = spike_start(times, at, rule)
        newest = times[bisect_right(times, at) - 1]
        spikes.append(
            Spike(
                district=district,
                start=datetime.fromtimestamp(start, UTC),
                count=_count(times, at - window, at),
                last_event=datetime.fromtimestamp(newest, UTC),
            )
        )
    return spikes
