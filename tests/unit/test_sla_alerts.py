"""Simulated incidents on a controllable clock: a fast burn, a slow burn and a recovery fire exactly the
alerts of the SRE Workbook's multi-window, multi-burn-rate table, at the minute its arithmetic says;
exclusion windows suppress them. The SLO: 99.9% availability over a rolling 30 days, Workbook alerts."""

from __future__ import annotations

import itertools
from typing import Any

from maestro.sla.evaluate import Aggregate, Range, status, transitions
from maestro.sla.slo import SloSpec, minute_datetime

T0 = 29_000_000  # the incident's first minute (epoch minutes)
HISTORY = 3 * 1440  # clean traffic before it


class Timeline:
    """Requests and server errors per minute, with prefix sums so any window costs O(1): a simulation's
    data, read through the same Source protocol the store implements."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.requests = [0.0]
        self.errors = [0.0]

    def extend(self, minutes: int, requests: float, errors: float) -> None:
        for _ in range(minutes):
            self.requests.append(self.requests[-1] + requests)
            self.errors.append(self.errors[-1] + errors)

    def _sum(self, series: list[float], start: int, end: int) -> float:
        a = min(max(start - self.start, 0), len(series) - 1)
        b = min(max(end - self.start, 0), len(series) - 1)
        return series[b] - series[a] if b > a else 0.0

    def aggregate(self, start: int, end: int, excluded: list[Range]) -> Aggregate:
        requests, errors = self._sum(self.requests, start, end), self._sum(self.errors, start, end)
        for a, b in excluded:
            lo, hi = max(a, start), min(b, end)
            if lo < hi:
                requests -= self._sum(self.requests, lo, hi)
                errors -= self._sum(self.errors, lo, hi)
        return Aggregate(count=requests, errors=errors)


def slo(exclusions: list[Range] = ()) -> SloSpec:  # type: ignore[assignment]
    return SloSpec.model_validate(
        {
            "name": "checkout",
            "service": "checkout-api",
            "objectives": [{"kind": "availability", "target": 99.9}],
            "exclusions": [{"start": minute_datetime(a), "end": minute_datetime(b)} for a, b in exclusions],
        }
    )


def run(spec: SloSpec, timeline: Timeline, minutes: int) -> list[tuple[int, str, str]]:
    """Check once a minute from T0 to T0 + minutes: (minutes since T0, event, which alert or objective)."""
    state: dict[str, Any] = {}
    fired = []
    for k in range(minutes + 1):
        state, events = transitions(state, status(spec, timeline, T0 + k))
        fired += [(k, e["type"], e.get("alert") or e["objective"]) for e in events]
    return fired


def incident(rate: float, errors: float, minutes: int, after: int) -> Timeline:
    timeline = Timeline(T0 - HISTORY)
    timeline.extend(HISTORY, rate, 0)
    timeline.extend(minutes, rate, errors)
    timeline.extend(after, rate, 0)
    return timeline


AVAILABILITY = "availability>=99.9%"
PAGE_FAST, PAGE_SLOW, TICKET = "1h/5m@14.4x", "6h/30m@6x", "3d/6h@1x"


def test_a_fast_burn_pages_then_tickets_then_exhausts_the_budget_and_recovers() -> None:
    # 2.5% errors (25x burn) for 200 minutes after 3 clean days at 1,000 requests a minute.
    # An alert fires at the first k where the long window's error ratio reaches burn x 0.1%:
    #   1h: 25k/60,000 >= 1.44%  -> k = 35;  6h: 25k/360,000 >= 0.6% -> k = 87;
    #   3d: 25k/4,320,000 >= 0.1% -> k = 173  (every short window crossed earlier).
    # Budget (0.1% of all requests in 30 days): remaining = 1 - 25k / (4,320 + k):
    #   warning at <= 25% remaining -> k = 134; breached below 0 -> k = 181.
    # After the incident (j minutes since it ended at k = 200) the short windows clear:
    #   5m: 25(5 - j)/5 < 14.4 -> j = 3;  30m: 25(30 - j)/30 < 6 -> j = 23;
    #   6h: 25(360 - j)/360 < 1 -> j = 346.   The budget stays spent: no SLO-level recovery.
    fired = run(slo(), incident(1000, 25, 200, 400), 560)
    assert fired == [
        (35, "BurnRateAlert", PAGE_FAST),
        (87, "BurnRateAlert", PAGE_SLOW),
        (134, "SloWarning", AVAILABILITY),
        (173, "BurnRateAlert", TICKET),
        (181, "SloBreached", AVAILABILITY),
        (203, "SloRecovered", PAGE_FAST),
        (223, "SloRecovered", PAGE_SLOW),
        (546, "SloRecovered", TICKET),
    ]


def test_a_slow_burn_only_opens_a_ticket() -> None:
    # 0.23% errors (2.3x burn) at 10,000 requests a minute: never enough for the pages (14.4x, 6x);
    # the 3-day window reaches 0.1% when 23k / 43,200,000 >= 0.001 -> k = 1,879.
    fired = run(slo(), incident(10_000, 23, 2000, 0), 1900)
    assert fired == [(1879, "BurnRateAlert", TICKET)]


def test_an_exclusion_window_over_the_incident_suppresses_every_alert() -> None:
    spec = slo([(T0 - 10, T0 + 220)])
    timeline = incident(1000, 25, 200, 400)
    assert run(spec, timeline, 560) == []
    assert status(spec, timeline, T0 + 50)["excluded_now"] is True


def test_alerts_wait_for_the_end_of_an_exclusion_and_its_minutes_do_not_count() -> None:
    # Maintenance covers the first 100 minutes of a 300-minute incident. At k = 101 the only counted
    # minute of the 5m, 30m and 1h windows is an incident minute (25x burn): the fast page fires at once.
    # The 6h window counts 260 minutes (clean ones before T0 and incident ones after the maintenance):
    # 25(k - 100) / 260,000 >= 0.6% -> k = 163. The 3-day window counts 4,220 minutes:
    # 25(k - 100) / 4,220,000 >= 0.1% -> k = 269.
    fired = run(slo([(T0, T0 + 100)]), incident(1000, 25, 300, 0), 270)
    assert [f for f in fired if f[1] == "BurnRateAlert"] == [
        (101, "BurnRateAlert", PAGE_FAST),
        (163, "BurnRateAlert", PAGE_SLOW),
        (269, "BurnRateAlert", TICKET),
    ]
    assert all(k > 100 for k, _, _ in fired)


def test_a_condition_that_holds_is_reported_once() -> None:
    fired = run(slo(), incident(1000, 1000, 2000, 0), 600)  # everything fails for hours
    counts = {key: len(list(group)) for key, group in itertools.groupby(sorted((t, a) for _, t, a in fired))}
    assert all(n == 1 for n in counts.values()), counts
