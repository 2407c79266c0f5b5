"""Ingestion folds events into unit totals and exact statistic deltas; analysis from statistics equals
analysis from raw data; configs and lifecycles are validated."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError as PydanticError
from scipy import stats as st

from maestro.ab import stats
from maestro.ab.analysis import analyze, quantile_interval
from maestro.ab.experiments import ExperimentSpec, check_update, transition
from maestro.ab.ingest import EXPOSURES, Event, UnitState, apply_events, metric_pair, with_counts
from maestro.core.errors import Conflict

SPEC = {
    "name": "e",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
    "metrics": [
        {"name": "converted", "kind": "binomial", "event": "purchase", "role": "primary"},
        {"name": "revenue", "kind": "mean", "event": "purchase", "cuped": True},
        {"name": "ctr", "kind": "ratio", "event": "click", "denominator_event": "view"},
    ],
}


def spec(**changes: object) -> ExperimentSpec:
    return ExperimentSpec.model_validate({**SPEC, **changes})


def ev(
    i: str, unit: str, kind: str = "metric", name: str | None = None, value: float = 1.0, pre: bool = False
) -> Event:
    return Event(event_id=i, unit_id=unit, type=kind, name=name, value=value, pre_period=pre)


def test_a_units_value_is_its_total_and_duplicates_count_once() -> None:
    s = spec()
    first = apply_events(
        "u",
        UnitState(),
        [
            ev("x", "u", "exposure"),
            ev("p1", "u", name="purchase", value=30.0),
            ev("p2", "u", name="purchase", value=12.0),
        ],
        s.metrics,
        "treatment",
    )
    assert first is not None and first.newly_exposed
    assert first.after.totals == {"purchase": 42.0}
    assert first.stats_delta["converted"]["sum_y"] == 1.0  # binomial: converted once, however many purchases
    assert first.stats_delta["revenue"] == {  # its n: the exposure, counted once per variant
        "sum_y": 42.0,
        "sum_y2": 42.0**2,
        "sum_x": 0.0,
        "sum_x2": 0.0,
        "sum_xy": 0.0,
    }
    again = apply_events(
        "u",
        first.after,
        [ev("p2", "u", name="purchase", value=12.0), ev("p3", "u", name="purchase", value=8.0)],
        s.metrics,
        "treatment",
    )
    assert again is not None and again.new_event_ids == ["p3"]
    assert again.stats_delta["revenue"]["sum_y2"] == 50.0**2 - 42.0**2
    assert "converted" not in again.stats_delta  # still converted: no change
    assert apply_events("u", again.after, [ev("p3", "u", name="purchase")], s.metrics, "treatment") is None


def test_metric_events_of_unexposed_units_are_not_counted() -> None:
    assert apply_events("u", UnitState(), [ev("p", "u", name="purchase")], spec().metrics, "control") is None


def test_statistics_are_the_sum_over_units_whatever_the_event_order() -> None:
    rng = np.random.default_rng(3)
    s = spec()
    totals: dict[str, dict[str, float]] = {}
    states: dict[str, UnitState] = {}
    units = [f"u{i}" for i in range(60)]
    events = [ev(f"x{u}", u, "exposure") for u in units]
    events += [
        ev(
            f"m{i}",
            units[rng.integers(60)],
            name=str(rng.choice(["purchase", "click", "view"])),
            value=float(rng.integers(1, 9)),
            pre=bool(rng.random() < 0.2),
        )
        for i in range(400)
    ]
    rng.shuffle(events[60:])
    for batch in np.array_split(np.arange(len(events)), 7):
        for i in batch:
            e = events[i]
            update = apply_events(e.unit_id, states.get(e.unit_id, UnitState()), [e], s.metrics, "control")
            if update:
                states[e.unit_id] = update.after
                exposures = totals.setdefault(EXPOSURES, {"n": 0.0})
                exposures["n"] += update.newly_exposed
                for metric, delta in update.stats_delta.items():
                    t = totals.setdefault(metric, dict.fromkeys(delta, 0.0))
                    for k, v in delta.items():
                        t[k] += v
    complete = with_counts({"control": totals}, [m.name for m in s.metrics])["control"]
    for metric in s.metrics:
        pairs = np.array([metric_pair(metric, st_.totals, st_.pre) for st_ in states.values()])
        y, x = pairs[:, 0], pairs[:, 1]
        expected = {
            "n": len(states),
            "sum_y": y.sum(),
            "sum_y2": (y * y).sum(),
            "sum_x": x.sum(),
            "sum_x2": (x * x).sum(),
            "sum_xy": (x * y).sum(),
        }
        assert complete[metric.name] == pytest.approx(expected, rel=1e-12)


def _stats_from_raw(values: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]) -> dict:
    out: dict = {}
    for variant, by_metric in values.items():
        for metric, (y, x) in by_metric.items():
            out.setdefault(variant, {})[metric] = {
                "n": float(y.size),
                "sum_y": y.sum(),
                "sum_y2": (y * y).sum(),
                "sum_x": x.sum(),
                "sum_x2": (x * x).sum(),
                "sum_xy": (x * y).sum(),
            }
        out[variant][EXPOSURES] = {"n": float(next(iter(by_metric.values()))[0].size)}
    return out


def test_analysis_from_statistics_equals_computing_from_raw_data() -> None:
    rng = np.random.default_rng(5)
    raw = {}
    for variant, lift in (("control", 0.0), ("treatment", 0.02)):
        n = 3000
        pre = rng.gamma(2, 10, n)
        revenue = 0.8 * pre + rng.normal(5 + 100 * lift, 4, n)
        converted = (rng.random(n) < 0.1 + lift).astype(float)
        views = rng.poisson(10, n).astype(float) + 1
        clicks = rng.binomial(views.astype(int), 0.2 + lift).astype(float)
        raw[variant] = {
            "converted": (converted, np.zeros(n)),
            "revenue": (revenue, pre),
            "ctr": (clicks, views),
        }
    report = analyze("exp", spec(), _stats_from_raw(raw))
    by_name = {m["name"]: m["comparisons"][0] for m in report["metrics"]}
    conv_c, conv_t = raw["control"]["converted"][0], raw["treatment"]["converted"][0]
    ref = stats.two_proportions(int(conv_c.sum()), conv_c.size, int(conv_t.sum()), conv_t.size)
    assert by_name["converted"]["p_value"] == pytest.approx(ref.p_value, rel=1e-9)
    (yc, xc), (yt, xt) = raw["control"]["revenue"], raw["treatment"]["revenue"]
    theta = np.cov(np.r_[yc, yt], np.r_[xc, xt])[0, 1] / np.r_[xc, xt].var(ddof=1)
    mean_x = np.r_[xc, xt].mean()
    _, p = st.ttest_ind(yt - theta * (xt - mean_x), yc - theta * (xc - mean_x), equal_var=False)
    assert by_name["revenue"]["cuped"]["theta"] == pytest.approx(theta, rel=1e-9)
    assert by_name["revenue"]["p_value"] == pytest.approx(p, rel=1e-9)
    (cc, vc), (ct, vt) = raw["control"]["ctr"], raw["treatment"]["ctr"]
    assert by_name["ctr"]["control"] == pytest.approx(cc.sum() / vc.sum(), rel=1e-12)
    assert by_name["ctr"]["treatment"] == pytest.approx(ct.sum() / vt.sum(), rel=1e-12)
    assert report["srm"]["mismatch"] is False
    holm = stats.holm([c["p_value"] for c in by_name.values()])
    assert [c["p_adjusted"] for c in by_name.values()] == pytest.approx(holm, rel=1e-12)


def test_decisions_refuse_to_ship_on_srm_or_a_harmed_guardrail() -> None:
    rng = np.random.default_rng(8)
    guarded = spec(
        metrics=[
            *SPEC["metrics"][:1],
            {
                "name": "errors",
                "kind": "mean",
                "event": "error",
                "role": "guardrail",
                "direction": "decrease",
            },
        ]
    )
    n = 5000
    raw = {
        "control": {
            "converted": ((rng.random(n) < 0.10).astype(float), np.zeros(n)),
            "errors": (rng.poisson(1.0, n).astype(float), np.zeros(n)),
        },
        "treatment": {
            "converted": ((rng.random(n) < 0.14).astype(float), np.zeros(n)),
            "errors": (rng.poisson(1.3, n).astype(float), np.zeros(n)),
        },
    }
    decision = analyze("e", guarded, _stats_from_raw(raw))["decision"]
    assert decision["action"] == "stop"
    assert any("guardrail errors" in r for r in decision["reasons"])
    skewed = _stats_from_raw(raw)
    skewed["treatment"][EXPOSURES]["n"] = 4000  # 5000 vs 4000 on a 50/50 split
    assert analyze("e", guarded, skewed)["decision"]["reasons"][0].startswith("sample ratio mismatch")
    healthy = {v: {"converted": raw[v]["converted"], "errors": raw["control"]["errors"]} for v in raw}
    assert analyze("e", guarded, _stats_from_raw(healthy))["decision"]["action"] == "ship"


def test_quantile_interval_is_the_order_statistic_interval() -> None:
    x = np.random.default_rng(1).lognormal(0, 1, 999)
    estimate, low, high = quantile_interval(x, 0.9, 0.05)
    s = np.sort(x)
    lo, hi = int(st.binom.ppf(0.025, 999, 0.9)), int(st.binom.ppf(0.975, 999, 0.9)) + 1
    assert (low, high) == (s[lo - 1], s[hi - 1])
    assert estimate == np.quantile(x, 0.9, method="inverted_cdf")
    assert low <= estimate <= high


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": [{"key": "a", "weight": 0.6}, {"key": "b", "weight": 0.6}]}, "variants"),
        ({"metrics": [{"name": "m", "kind": "mean", "event": "e"}]}, "metrics"),  # no primary metric
        ({"metrics": [{"name": "m", "kind": "ratio", "event": "e", "role": "primary"}]}, "metrics"),
        ({"metrics": [{"name": "m", "kind": "median", "event": "e", "role": "primary"}]}, "metrics"),
    ],
)
def test_invalid_configs_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(PydanticError) as raised:
        spec(**change)
    assert raised.value.errors()[0]["loc"][0] == field


def test_lifecycle_and_safe_edits() -> None:
    assert transition("draft", "start") == "running"
    assert transition("running", "pause") == "paused"
    assert transition("paused", "conclude") == "concluded"
    with pytest.raises(Conflict):
        transition("concluded", "start")
    current = spec()
    check_update(
        current,
        spec(variants=[{"key": "control", "weight": 0.4}, {"key": "treatment", "weight": 0.6}]),
        "draft",
    )
    with pytest.raises(Conflict, match="variants"):
        check_update(
            current,
            spec(variants=[{"key": "control", "weight": 0.4}, {"key": "treatment", "weight": 0.6}]),
            "running",
        )
    check_update(spec(coverage=0.5), spec(coverage=0.8), "running")
    with pytest.raises(Conflict, match="coverage"):
        check_update(spec(coverage=0.8), spec(coverage=0.5), "running")


def test_a_proper_prior_shrinks_the_bayesian_view() -> None:
    rng = np.random.default_rng(4)
    n = 400
    raw = {
        v: {
            "converted": ((rng.random(n) < p).astype(float), np.zeros(n)),
            "revenue": (rng.normal(m, 5, n), np.zeros(n)),
            "ctr": (np.ones(n), np.ones(n) * 2),
        }
        for v, p, m in (("control", 0.1, 10.0), ("treatment", 0.13, 11.0))
    }
    flat = analyze("e", spec(), _stats_from_raw(raw))
    shrunk = analyze("e", spec(decision={"method": "bayesian", "prior_sd": 0.01}), _stats_from_raw(raw))
    f, s = (
        next(m for m in r["metrics"] if m["name"] == "revenue")["comparisons"][0]["bayesian"]
        for r in (flat, shrunk)
    )
    assert abs(s["mean"]) < abs(f["mean"])
    assert s["sd"] < f["sd"]


def test_ingest_transactions_stay_within_100_items_for_the_largest_config() -> None:
    from maestro.ab.service import chunks

    big = spec(
        variants=[{"key": f"v{i}", "weight": 0.05} for i in range(20)],
        metrics=[
            {"name": f"m{i}", "kind": "mean", "event": f"e{i}", "role": "primary" if i == 0 else "secondary"}
            for i in range(50)
        ],
    )
    updates = []
    for u in range(400):
        variant = f"v{u % 20}"
        events = [ev(f"x{u}", f"u{u}", "exposure")] + [
            ev(f"e{u}-{i}", f"u{u}", name=f"e{i}") for i in range(50)
        ]
        updates.append(apply_events(f"u{u}", UnitState(), events, big.metrics, variant))
    groups = chunks(updates)
    assert sum(len(g) for g in groups) == 400
    for group in groups:
        stats_items = {f"{u.after.variant}#{m}" for u in group for m in u.stats_delta} | {
            f"{u.after.variant}#exposures" for u in group
        }
        assert len(group) + len(stats_items) <= 100
