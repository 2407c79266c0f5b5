"""An SLO's status at a moment: attainment and error budget per objective over its window, the burn rate over
each alert window, p50/p95/p99 and error rate; and which events that status means given the previous one
(SloWarning, SloBreached, BurnRateAlert, SloRecovered: each once when its condition starts or ends).
Pure: observations come from a Source, time from the caller (a schedule's clock, a test's clock).
Must never fire or clear an alert while the moment lies inside an exclusion window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from maestro.sla.sketch import LatencySketch
from maestro.sla.slo import Objective, SloSpec, duration_minutes

Range = tuple[int, int]  # [start, end) in epoch minutes
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


@dataclass
class Aggregate:
    """What a run of minutes saw: requests, server errors, and the latency sketch."""

    count: float = 0.0
    errors: float = 0.0
    sketch: LatencySketch = field(default_factory=LatencySketch)

    def add(self, other: Aggregate) -> Aggregate:
        self.count += other.count
        self.errors += other.errors
        self.sketch.merge(other.sketch)
        return self

    def bad(self, objective: Objective) -> float:
        if objective.kind == "availability":
            return self.errors
        assert objective.threshold_ms is not None
        return max(0.0, self.count - self.sketch.count_at_most(objective.threshold_ms))


class Source(Protocol):
    def aggregate(self, start: int, end: int, excluded: list[Range]) -> Aggregate:
        """Everything observed in minutes [start, end) outside the excluded ranges."""
        ...


def overlaps(a: Range, b: Range) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _window_summary(aggregate: Aggregate) -> dict[str, Any]:
    return {
        "requests": aggregate.count,
        "errors": aggregate.errors,
        "error_rate": _ratio(aggregate.errors, aggregate.count),
        **{name: aggregate.sketch.quantile(q) for name, q in QUANTILES.items()},
    }


def status(spec: SloSpec, source: Source, now: int) -> dict[str, Any]:
    """The status at minute `now` (observations of minutes before it count)."""
    excluded = [e.minutes for e in spec.exclusions]
    start, end = spec.window.bounds(now)
    whole = source.aggregate(start, end, excluded)
    durations = {text for alert in spec.alerts for text in (alert.long_window, alert.short_window)}
    windows = {
        text: source.aggregate(now - duration_minutes(text), now, excluded)
        for text in sorted(durations, key=duration_minutes)
    }
    objectives = []
    for objective in spec.objectives:
        bad = whole.bad(objective)
        allowed = objective.budget_ratio * whole.count
        remaining = (1 - bad / allowed) if allowed else None
        if remaining is None:
            level = "no_data"
        elif remaining < 0:
            level = "breached"
        elif remaining * 100 <= spec.warning_budget_remaining:
            level = "warning"
        else:
            level = "ok"
        burn = {
            text: _ratio(_ratio(agg.bad(objective), agg.count) or 0.0, objective.budget_ratio)
            if agg.count
            else None
            for text, agg in windows.items()
        }
        alerts = [
            {
                "alert": alert.name,
                "severity": alert.severity,
                "burn_rate_threshold": alert.burn_rate,
                "long_burn_rate": burn[alert.long_window],
                "short_burn_rate": burn[alert.short_window],
                "firing": _firing(burn[alert.long_window], burn[alert.short_window], alert.burn_rate),
            }
            for alert in spec.alerts
        ]
        objectives.append(
            {
                "objective": objective.name,
                "kind": objective.kind,
                "target": objective.target,
                "attainment": None if not whole.count else 100 * (1 - bad / whole.count),
                "good": whole.count - bad,
                "bad": bad,
                "error_budget": allowed,
                "budget_remaining": None if remaining is None else 100 * remaining,
                "level": level,
                "burn_rates": burn,
                "alerts": alerts,
            }
        )
    return {
        "now": now,
        "window": {"start": start, "end": end, **_window_summary(whole)},
        "windows": {text: _window_summary(agg) for text, agg in windows.items()},
        "excluded_now": spec.excluded(now - 1),
        "objectives": objectives,
    }


def _firing(long_burn: float | None, short_burn: float | None, threshold: float) -> bool:
    return (
        long_burn is not None
        and short_burn is not None
        and long_burn >= threshold
        and short_burn >= threshold
    )


def conditions(report: dict[str, Any]) -> dict[str, Any]:
    """The alerting state a status stands for: each objective's level and the alerts firing."""
    return {
        "levels": {o["objective"]: o["level"] for o in report["objectives"] if o["level"] != "no_data"},
        "firing": sorted(
            f"{o['objective']}|{a['alert']}" for o in report["objectives"] for a in o["alerts"] if a["firing"]
        ),
    }


_RANK = {"ok": 0, "warning": 1, "breached": 2}


def transitions(
    previous: dict[str, Any], report: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The new alerting state and the events due: only changes produce events, so a condition that holds
    is reported once. Inside an exclusion window nothing changes and nothing fires."""
    if report["excluded_now"]:
        return previous, []
    current = conditions(report)
    by_name = {o["objective"]: o for o in report["objectives"]}
    events: list[dict[str, Any]] = []
    old_levels = previous.get("levels", {})
    for name, level in current["levels"].items():
        old = old_levels.get(name, "ok")
        objective = by_name[name]
        facts = {
            "objective": name,
            "attainment": objective["attainment"],
            "target": objective["target"],
            "budget_remaining": objective["budget_remaining"],
        }
        if _RANK[level] > _RANK[old]:
            events.append({"type": "SloBreached" if level == "breached" else "SloWarning", **facts})
        elif _RANK[level] < _RANK[old]:
            events.append({"type": "SloRecovered", "condition": old, "now": level, **facts})
    alerts = {
        f"{o['objective']}|{a['alert']}": (o["objective"], a)
        for o in report["objectives"]
        for a in o["alerts"]
    }
    old_firing = set(previous.get("firing", []))
    for key in _new(current["firing"], old_firing):
        name, alert = alerts[key]
        events.append({"type": "BurnRateAlert", "objective": name, **alert})
    for key in sorted(old_firing - set(current["firing"])):
        if key in alerts:
            name, alert = alerts[key]
            events.append({"type": "SloRecovered", "condition": "burn_rate", "objective": name, **alert})
    return current, events


def _new(now: Iterable[str], before: set[str]) -> list[str]:
    return [key for key in now if key not in before]


class MinuteSource:
    """Aggregates held per minute in memory (what a store read back, or a simulation's timeline)."""

    def __init__(self, minutes: dict[int, Aggregate] | None = None) -> None:
        self.minutes = minutes if minutes is not None else {}

    def aggregate(self, start: int, end: int, excluded: list[Range]) -> Aggregate:
        total = Aggregate()
        for minute, aggregate in self.minutes.items():
            if start <= minute < end and not any(a <= minute < b for a, b in excluded):
                total.add(aggregate)
        return total
