"""An experiment's analysis from its stored statistics: every metric, every variant against control, SRM,
multiple-testing correction, power, and a decision with its reasons. Pure (no I/O).
Must never ship on a sample ratio mismatch or a harmed guardrail."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np
from scipy import stats as st

from maestro.ab import stats
from maestro.ab.experiments import ExperimentSpec, MetricSpec
from maestro.ab.ingest import EXPOSURES, metric_pair, with_counts

Stats = dict[str, dict[str, dict[str, float]]]


def _cross(s: dict[str, float]) -> stats.CrossMoments:
    return stats.CrossMoments(int(s["n"]), s["sum_y"], s["sum_y2"], s["sum_x"], s["sum_x2"], s["sum_xy"])


def quantile_interval(values: np.ndarray, q: float, alpha: float) -> tuple[float, float, float]:
    """Sample quantile with a distribution-free interval from order statistics: the ranks come from the
    Binomial(n, q) quantiles (the classic order-statistic CI for a quantile)."""
    x = np.sort(values)
    n = x.size
    lo = int(st.binom.ppf(alpha / 2, n, q))
    hi = int(st.binom.ppf(1 - alpha / 2, n, q)) + 1
    estimate = float(np.quantile(x, q, method="inverted_cdf"))
    return estimate, float(x[max(lo - 1, 0)]), float(x[min(hi - 1, n - 1)])


def _comparison_json(c: stats.Comparison) -> dict[str, Any]:
    return {
        "control": c.control_mean,
        "treatment": c.treatment_mean,
        "diff": c.diff,
        "se": c.se,
        "ci": list(c.ci),
        "p_value": c.p_value,
        "statistic": c.statistic,
        "df": c.df,
        "relative": c.relative,
        "relative_se": c.relative_se,
        "relative_ci": list(c.relative_ci),
    }


def _compare(
    metric: MetricSpec,
    a: dict[str, float],
    b: dict[str, float],
    spec: ExperimentSpec,
    units: dict[str, np.ndarray] | None,
    control: str,
    variant: str,
) -> dict[str, Any]:
    alpha = spec.decision.alpha
    ca, cb = _cross(a), _cross(b)
    out: dict[str, Any] = {"variant": variant}
    if metric.kind == "binomial":
        result = stats.two_proportions(round(ca.sum_y), ca.n, round(cb.sum_y), cb.n, alpha)
        out["chance_to_win_beta"] = stats.beta_chance_to_win(round(ca.sum_y), ca.n, round(cb.sum_y), cb.n)
    elif metric.kind == "ratio":
        result = stats.ratio_comparison(ca, cb, alpha)
    else:
        result = stats.welch(ca.y, cb.y, alpha)
        out["cohens_d"] = stats.cohens_d(ca.y, cb.y)
    if metric.cuped and metric.kind in ("mean", "binomial") and ca.x.var > 0:
        adjusted = stats.cuped(ca, cb, alpha)
        out["cuped"] = {
            "theta": adjusted.theta,
            "variance_reduction": adjusted.variance_reduction,
            **_comparison_json(adjusted.comparison),
        }
        result = adjusted.comparison
    out.update(_comparison_json(result))
    if metric.kind in ("mean", "binomial"):
        seq = stats.confidence_sequence(ca.y, cb.y, alpha=alpha, n_star=spec.decision.n_star)
        out["sequential"] = {"interval": list(seq.interval), "p_value": seq.p_value}
    posterior = stats.bayes_normal(
        result.relative, result.relative_se, prior_sd=spec.decision.prior_sd, alpha=alpha
    )
    out["bayesian"] = {k: v for k, v in asdict(posterior).items()}
    if (
        units is not None
        and metric.kind in ("mean", "quantile")
        and len(units[control])
        and len(units[variant])
    ):
        rank = stats.mann_whitney(units[control], units[variant])
        out["mann_whitney"] = {"u": rank.u, "p_value": rank.p_value, "rank_biserial": rank.rank_biserial}
    if metric.kind == "quantile" and units is not None:
        q = metric.quantile or 0.5
        ea, la, ha = quantile_interval(units[control], q, alpha)
        eb, lb, hb = quantile_interval(units[variant], q, alpha)
        z = float(st.norm.ppf(1 - alpha / 2))
        se = math.hypot((ha - la) / (2 * z), (hb - lb) / (2 * z))
        diff = eb - ea
        p = float(2 * st.norm.sf(abs(diff) / se)) if se > 0 else 1.0
        out.update(
            {
                "quantile": q,
                "control": ea,
                "treatment": eb,
                "control_ci": [la, ha],
                "treatment_ci": [lb, hb],
                "diff": diff,
                "se": se,
                "ci": [diff - z * se, diff + z * se],
                "p_value": p,
                "relative": eb / ea - 1 if ea else None,
            }
        )
    return out


def favourable(metric: MetricSpec, comparison: dict[str, Any]) -> bool:
    return (comparison["diff"] > 0) == (metric.direction == "increase")


def analyze(
    experiment_id: str,
    spec: ExperimentSpec,
    statistics: Stats,
    unit_values: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    control = spec.control
    keys = [v.key for v in spec.variants]
    statistics = with_counts(statistics, [m.name for m in spec.metrics])
    counts = [int(statistics.get(k, {}).get(EXPOSURES, {}).get("n", 0)) for k in keys]
    report: dict[str, Any] = {
        "experiment_id": experiment_id,
        "variants": dict(zip(keys, counts, strict=True)),
        "metrics": [],
        "decision": None,
    }
    if sum(counts) == 0 or min(counts) < 2:
        report["srm"] = None
        report["decision"] = {
            "action": "keep_running",
            "winner": None,
            "reasons": ["not enough exposed units in every variant yet"],
        }
        return report
    srm = stats.sample_ratio_mismatch(counts, [v.weight for v in spec.variants])
    report["srm"] = {
        "chi2": srm.chi2,
        "p_value": srm.p_value,
        "mismatch": srm.mismatch,
        "expected_weights": [v.weight for v in spec.variants],
    }
    units = _unit_arrays(spec, unit_values) if unit_values is not None else None

    flat: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for metric in spec.metrics:
        entry: dict[str, Any] = {
            "name": metric.name,
            "kind": metric.kind,
            "role": metric.role,
            "direction": metric.direction,
            "comparisons": [],
        }
        control_stats = statistics.get(control, {}).get(metric.name)
        for variant in keys[1:]:
            variant_stats = statistics.get(variant, {}).get(metric.name)
            if not control_stats or not variant_stats or control_stats["n"] < 2 or variant_stats["n"] < 2:
                continue
            try:
                with np.errstate(divide="raise", invalid="raise"):  # numpy floats: NaN would pass silently
                    comparison = _compare(
                        metric,
                        control_stats,
                        variant_stats,
                        spec,
                        units.get(metric.name) if units else None,
                        control,
                        variant,
                    )
            except (ZeroDivisionError, ValueError, FloatingPointError):
                # No variation yet (a constant metric, a zero control value): nothing to test, not a failure.
                entry["comparisons"].append(
                    {
                        "variant": variant,
                        "error": "not enough variation to compare (zero variance or a zero control value)",
                    }
                )
                continue
            entry["comparisons"].append(comparison)
            flat.append((entry, comparison))
        report["metrics"].append(entry)

    rule = spec.decision
    raw = [
        c["sequential"]["p_value"] if rule.method == "sequential" and "sequential" in c else c["p_value"]
        for _, c in flat
    ]
    adjusted = (
        (
            stats.holm(raw)
            if rule.correction == "holm"
            else stats.benjamini_hochberg(raw)
            if rule.correction == "benjamini-hochberg"
            else raw
        )
        if raw
        else []
    )
    for (_, comparison), p in zip(flat, adjusted, strict=True):
        comparison["p_adjusted"] = p
    report["power"] = _power(spec, statistics)
    report["decision"] = decide(spec, report)
    return report


def _unit_arrays(spec: ExperimentSpec, unit_values: list[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, list[float]]] = {
        m.name: {v.key: [] for v in spec.variants} for m in spec.metrics
    }
    for unit in unit_values:
        totals = {k: float(v) for k, v in (unit.get("totals") or {}).items()}
        pre = {k: float(v) for k, v in (unit.get("pre") or {}).items()}
        for metric in spec.metrics:
            if unit.get("variant") in out[metric.name]:
                out[metric.name][unit["variant"]].append(metric_pair(metric, totals, pre)[0])
    return {m: {v: np.asarray(vals) for v, vals in by.items()} for m, by in out.items()}


def _power(spec: ExperimentSpec, statistics: Stats) -> dict[str, Any] | None:
    primary = next(m for m in spec.metrics if m.role == "primary")
    s = statistics.get(spec.control, {}).get(primary.name)
    if not spec.minimum_detectable_effect or not s or s["n"] < 2 or primary.kind not in ("mean", "binomial"):
        return None
    moments = _cross(s).y
    sd, mde = math.sqrt(moments.var), spec.minimum_detectable_effect * abs(moments.mean)
    if sd == 0 or mde == 0:
        return None
    needed = stats.sample_size_per_variant(mde, sd, alpha=spec.decision.alpha)
    return {
        "metric": primary.name,
        "mde_relative": spec.minimum_detectable_effect,
        "mde_absolute": mde,
        "units_needed_per_variant": needed,
        "progress": moments.n / needed,
        "achieved_power_at_mde": stats.achieved_power(
            mde, sd * math.sqrt(2 / moments.n), alpha=spec.decision.alpha
        ),
        "detectable_now": stats.minimum_detectable_effect(moments.n, sd, alpha=spec.decision.alpha),
    }


def decide(spec: ExperimentSpec, report: dict[str, Any]) -> dict[str, Any]:
    rule, reasons = spec.decision, []
    if report["srm"] and report["srm"]["mismatch"]:
        return {
            "action": "keep_running",
            "winner": None,
            "reasons": [
                f"sample ratio mismatch (p = {report['srm']['p_value']:.2g}): fix assignment or logging "
                "before trusting any result"
            ],
        }

    def significant(metric: MetricSpec, c: dict[str, Any]) -> bool:
        if rule.method == "bayesian":
            ctw = c["bayesian"]["chance_to_win"]
            return (ctw if metric.direction == "increase" else 1 - ctw) >= rule.chance_to_win or (
                1 - ctw if metric.direction == "increase" else ctw
            ) >= rule.chance_to_win
        return c.get("p_adjusted", 1.0) < rule.alpha

    by_name = {m.name: m for m in spec.metrics}
    harmed = [
        (e["name"], c["variant"])
        for e in report["metrics"]
        if by_name[e["name"]].role == "guardrail"
        for c in e["comparisons"]
        if "error" not in c and significant(by_name[e["name"]], c) and not favourable(by_name[e["name"]], c)
    ]
    primary = next(e for e in report["metrics"] if by_name[e["name"]].role == "primary")
    metric = by_name[primary["name"]]
    tested = [c for c in primary["comparisons"] if "error" not in c]
    winners = [c for c in tested if significant(metric, c) and favourable(metric, c)]
    losers = [c for c in tested if significant(metric, c) and not favourable(metric, c)]
    if harmed:
        reasons += [f"guardrail {name} is significantly worse in {variant}" for name, variant in harmed]
    if winners and not harmed:
        best = max(winners, key=lambda c: c["relative"] if metric.direction == "increase" else -c["relative"])
        return {
            "action": "ship",
            "winner": best["variant"],
            "reasons": [
                f"{metric.name} {metric.direction}s by {best['relative']:+.2%} in {best['variant']} "
                f"({rule.method}), guardrails hold, no sample ratio mismatch"
            ],
        }
    if (losers and len(losers) == len(tested)) or harmed:
        reasons += [f"{metric.name} is significantly worse in {c['variant']}" for c in losers]
        return {"action": "stop", "winner": None, "reasons": reasons}
    power = report.get("power")
    reasons.append(f"{metric.name} shows no significant difference yet ({rule.method})")
    if power:
        reasons.append(
            f"{power['progress']:.0%} of the {power['units_needed_per_variant']} units per variant needed "
            f"to detect {power['mde_relative']:.1%}"
        )
    return {"action": "keep_running", "winner": None, "reasons": reasons}
