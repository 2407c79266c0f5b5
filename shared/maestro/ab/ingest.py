"""From raw events to per-unit totals and per-variant sufficient statistics. Pure: the store applies what
this computes. Must never count a unit's event twice, nor count a unit that was never exposed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from maestro.ab.experiments import MetricSpec
from maestro.core.fields import Key
from maestro.monitoring.interface import Record

EXPOSURES = "__exposures__"
SUM_FIELDS = ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy")


def with_counts(
    statistics: dict[str, dict[str, dict[str, float]]], metrics: list[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """Stored sums completed into sufficient statistics: every metric of a variant gets the variant's exposure
    count as its n (a unit's value counts from its exposure on, zero until its first event), and zero sums
    where no exposed unit has a value yet."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for variant, per_metric in statistics.items():
        n = per_metric.get(EXPOSURES, {}).get("n", 0.0)
        out[variant] = {EXPOSURES: {"n": n}} | {
            m: {"n": n} | {f: per_metric.get(m, {}).get(f, 0.0) for f in SUM_FIELDS} for m in metrics
        }
    return out


class Event(BaseModel):
    event_id: Key
    unit_id: Key
    type: Literal["exposure", "metric"]
    name: Key | None = Field(None, description="metric events: the event name metrics select on")
    value: float = 1.0
    pre_period: bool = Field(False, description="a pre-experiment value, used as the CUPED covariate")
    timestamp: int | None = None
    serving: Record | None = Field(
        None,
        description="exposure events: the features and prediction the unit was served, recorded for "
        "the model monitoring of its variant's model version",
    )

    @model_validator(mode="after")
    def _serving_on_exposures(self) -> Event:
        if self.serving is not None and self.type != "exposure":
            raise ValueError("serving: only exposure events carry serving records")
        return self


@dataclass
class UnitState:
    """A unit's own totals: the metric value of a unit is its total, not each event."""

    variant: str | None = None
    version: int = 0
    totals: dict[str, float] = field(default_factory=dict)
    pre: dict[str, float] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


def metric_pair(metric: MetricSpec, totals: dict[str, float], pre: dict[str, float]) -> tuple[float, float]:
    """(y, x) of one unit for one metric; x is the ratio's denominator or the CUPED covariate (else 0)."""
    y = totals.get(metric.event, 0.0)
    if metric.kind == "binomial":
        y = 1.0 if y > 0 else 0.0
    if metric.kind == "ratio":
        return y, totals.get(metric.denominator_event or "", 0.0)
    if metric.cuped:
        x = pre.get(metric.event, 0.0)
        return y, (1.0 if x > 0 else 0.0) if metric.kind == "binomial" else x
    return y, 0.0


@dataclass
class UnitUpdate:
    unit_id: str
    before: UnitState
    after: UnitState
    new_event_ids: list[str]
    newly_exposed: bool
    stats_delta: dict[str, dict[str, float]]  # metric -> {sum_y, sum_y2, sum_x, sum_x2, sum_xy}


def apply_events(
    unit_id: str, state: UnitState, events: Iterable[Event], metrics: list[MetricSpec], variant_of: str | None
) -> UnitUpdate | None:
    """Fold a batch's events for one unit into its state. `variant_of` is the server's assignment of the unit
    (used at its first exposure; the client's claim is never trusted). None when nothing changes."""
    after = UnitState(state.variant, state.version + 1, dict(state.totals), dict(state.pre), set(state.seen))
    fresh = []
    for event in events:
        if event.event_id in after.seen:
            continue  # a duplicate delivery: recorded once
        fresh.append(event)
        after.seen.add(event.event_id)
    exposed_now = (
        state.variant is None and variant_of is not None and any(e.type == "exposure" for e in fresh)
    )
    if exposed_now:
        after.variant = variant_of
    if after.variant is None:
        return None  # never exposed: its metric events are not part of the experiment
    for event in fresh:
        if event.type == "metric" and event.name:
            bucket = after.pre if event.pre_period else after.totals
            bucket[event.name] = bucket.get(event.name, 0.0) + event.value
    if not fresh:
        return None
    delta: dict[str, dict[str, float]] = {}
    for metric in metrics:
        y0, x0 = metric_pair(metric, state.totals, state.pre) if not exposed_now else (0.0, 0.0)
        y1, x1 = metric_pair(metric, after.totals, after.pre)
        d = {  # a metric's n is its variant's exposure count: a unit counts once it is exposed
            "sum_y": y1 - y0,
            "sum_y2": y1 * y1 - y0 * y0,
            "sum_x": x1 - x0,
            "sum_x2": x1 * x1 - x0 * x0,
            "sum_xy": x1 * y1 - x0 * y0,
        }
        if any(d.values()):
            delta[metric.name] = d
    return UnitUpdate(unit_id, state, after, [e.event_id for e in fresh], exposed_now, delta)


def group_by_unit(events: Iterable[Event]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event.unit_id, []).append(event)
    return grouped


def unit_state_from_item(item: dict[str, Any] | None) -> UnitState:
    if not item:
        return UnitState()
    return UnitState(
        item.get("variant"),
        int(item.get("version", 0)),
        {k: float(v) for k, v in item.get("totals", {}).items()},
        {k: float(v) for k, v in item.get("pre", {}).items()},
        set(item.get("seen", [])),
    )
