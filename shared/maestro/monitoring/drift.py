"""Drift between a reference and a current distribution, column by column, with Evidently's defaults as the
reference behaviour (its legacy stattests registry): a reference of at most 1,000 values is tested with
two-sample Kolmogorov-Smirnov (numeric, more than 5 distinct values), chi-square (categorical, or numeric
with 3-5 values) or the two-proportion Z-test (two values), at 95% confidence; a larger reference with the
Wasserstein distance normalised by the reference's standard deviation (numeric) or the Jensen-Shannon
distance (categorical, or few values), drifting at 0.1. PSI is reported beside every column. The dataset
drifts when at least half of the columns do. On request the p-values are corrected for the number of
columns tested (Holm or Benjamini-Hochberg). Must never decide on another statistic than the one reported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from maestro.monitoring.distribution import CATEGORICAL, EXACT_LIMIT, Distribution

P_VALUE_TESTS = {"ks", "chisquare", "z"}


@dataclass(frozen=True)
class Options:
    p_threshold: float = 0.05  # p-value tests drift below it
    distance_threshold: float = 0.1  # distances drift at or above it
    drift_share: float = 0.5  # the dataset drifts when at least this share of columns do
    correction: str | None = None  # "holm" or "bh": correct p-values for the number of columns tested
    psi_bands: tuple[float, float] = (0.1, 0.25)  # PSI: below the first no shift, above the second major


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    psi: float
    psi_band: str
    reference_count: int
    current_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in self.__dict__.items()
        }


def _distinct_count(ref: Distribution, cur: Distribution) -> int | None:
    """Distinct values over both, None when more than a numeric column tracks (many)."""
    a, b = ref.distinct_values(), cur.distinct_values()
    return None if a is None or b is None else len(a | b)


def choose(ref: Distribution, cur: Distribution) -> str:
    """Evidently's default test for the column (its `_get_default_stattest`)."""
    n_values = _distinct_count(ref, cur)
    few = n_values is not None and n_values <= 5
    if ref.count <= EXACT_LIMIT:
        if ref.kind == CATEGORICAL or few:
            return "chisquare" if n_values is None or n_values > 2 else "z"
        return "ks"
    if ref.kind == CATEGORICAL or few:
        return "jensenshannon"
    return "wasserstein"


def ks_test(ref: Distribution, cur: Distribution) -> tuple[float, float]:
    """The two-sample Kolmogorov-Smirnov statistic D and its two-sided p-value. On exact values scipy's
    ks_2samp; on sketches D from the weighted ECDFs (each value within ALPHA of itself, so D within the
    current mass of a +-ALPHA band around any point) and the p-value of ks_2samp's asymptotic mode."""
    if ref.exact is not None and cur.exact is not None:
        result = stats.ks_2samp(ref.exact, cur.exact)
        return float(result.statistic), float(result.pvalue)
    (a, wa), (b, wb) = ref.weighted(), cur.weighted()
    grid = np.union1d(a, b)
    cdf_a = _weighted_cdf(np.asarray(a), np.asarray(wa), grid)
    cdf_b = _weighted_cdf(np.asarray(b), np.asarray(wb), grid)
    d = float(np.max(np.abs(cdf_a - cdf_b))) if len(grid) else 0.0
    m, n = sorted([float(ref.count), float(cur.count)], reverse=True)
    return d, float(stats.kstwo.sf(d, np.round(m * n / (m + n))))


def ks(ref: Distribution, cur: Distribution) -> float:
    return ks_test(ref, cur)[1]


def _weighted_cdf(values: np.ndarray, weights: np.ndarray, grid: np.ndarray) -> np.ndarray:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    index = np.searchsorted(values[order], grid, side="right")
    return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0)


def wasserstein(ref: Distribution, cur: Distribution) -> float:
    """The first Wasserstein distance normalised by the reference's standard deviation (at least 0.001)."""
    (a, wa), (b, wb) = ref.weighted(), cur.weighted()
    return float(stats.wasserstein_distance(a, b, wa, wb)) / max(ref.std, 0.001)


def binned(ref: Distribution, cur: Distribution, fill_zeroes: bool) -> tuple[np.ndarray, np.ndarray]:
    """Evidently's `get_binned_data`: a numeric column with more than 20 distinct reference values in
    Sturges' bins over both; any other column per value. Shares of each side; with `fill_zeroes` an empty
    bin gets a tiny share (PSI's logarithm)."""
    distinct = ref.distinct_values()
    if ref.kind != CATEGORICAL and (distinct is None or len(distinct) > 20):
        low = min(v for v in (ref.low, cur.low) if v is not None)
        high = max(v for v in (ref.high, cur.high) if v is not None)
        if low == high:
            low, high, bins = low - 0.5, high + 0.5, 1
        else:  # numpy's Sturges rule, computed as numpy does (rounding included)
            width = (high - low) / (np.log2(ref.count + cur.count) + 1.0)
            bins = int(np.ceil((high - low) / width))
        edges = np.linspace(low, high, bins + 1)
        ref_shares = _histogram(ref, edges, low, high) / ref.count
        cur_shares = _histogram(cur, edges, low, high) / cur.count
    else:
        ref_counts, cur_counts = ref.frequencies(), cur.frequencies()
        keys = list(set(ref_counts) | set(cur_counts))
        ref_shares = np.array([ref_counts.get(k, 0) / ref.count for k in keys])
        cur_shares = np.array([cur_counts.get(k, 0) / cur.count for k in keys])
    if fill_zeroes:
        for shares in (ref_shares, cur_shares):
            smallest = shares[shares != 0].min()
            np.place(shares, shares == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return ref_shares, cur_shares


def _histogram(column: Distribution, edges: np.ndarray, low: float, high: float) -> np.ndarray:
    values, weights = column.weighted()
    # a sketch's representative value lies within ALPHA of the values it stands for: keep it in range
    clipped = np.clip(np.asarray(values, dtype=float), low, high)
    return np.histogram(clipped, edges, weights=np.asarray(weights, dtype=float))[0].astype(float)


def jensenshannon(ref: Distribution, cur: Distribution) -> float:
    ref_shares, cur_shares = binned(ref, cur, fill_zeroes=False)
    return float(distance.jensenshannon(ref_shares, cur_shares))


def psi(ref: Distribution, cur: Distribution) -> float:
    ref_shares, cur_shares = binned(ref, cur, fill_zeroes=True)
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))


def chisquare(ref: Distribution, cur: Distribution) -> float:
    ref_counts, cur_counts = ref.frequencies(), cur.frequencies()
    keys = list(set(ref_counts) | set(cur_counts))
    scale = cur.count / ref.count
    expected = [ref_counts.get(k, 0) * scale for k in keys]
    observed = [cur_counts.get(k, 0) for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.chisquare(observed, expected).pvalue)


def z(ref: Distribution, cur: Distribution) -> float:
    """The two-proportion Z-test's two-sided p-value, on the share of values other than the first key."""
    ref_counts, cur_counts = ref.frequencies(), cur.frequencies()
    if len(ref_counts) == 1 and len(cur_counts) == 1 and set(ref_counts) == set(cur_counts):
        return 1.0
    first = sorted(set(ref_counts) | set(cur_counts))[0]
    n1, n2 = ref.count, cur.count
    p1, p2 = (n1 - ref_counts.get(first, 0)) / n1, (n2 - cur_counts.get(first, 0)) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.float64(p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(statistic))))


TESTS = {"ks": ks, "chisquare": chisquare, "z": z, "wasserstein": wasserstein, "jensenshannon": jensenshannon}


def column_drift(name: str, ref: Distribution, cur: Distribution, options: Options) -> ColumnDrift:
    method = choose(ref, cur)
    statistic = TESTS[method](ref, cur)
    threshold = options.p_threshold if method in P_VALUE_TESTS else options.distance_threshold
    value = psi(ref, cur)
    band = "none" if value < options.psi_bands[0] else "moderate" if value < options.psi_bands[1] else "major"
    return ColumnDrift(
        name,
        method,
        statistic,
        threshold,
        _drifts(method, statistic, threshold),
        value,
        band,
        ref.count,
        cur.count,
    )


def _drifts(method: str, statistic: float, threshold: float) -> bool:
    if method == "ks":
        return bool(statistic <= threshold)  # Evidently's KS drifts at the threshold too
    if method in P_VALUE_TESTS:
        return bool(statistic < threshold)
    return bool(statistic >= threshold)


def corrected(p_values: list[float], method: str) -> list[float]:
    """Holm's step-down or Benjamini-Hochberg's adjusted p-values, in the order given."""
    p = np.asarray(p_values, dtype=float)
    if method == "bh":
        return [float(v) for v in stats.false_discovery_control(p, method="bh")]
    if method != "holm":
        raise ValueError(f"unknown correction {method!r}")
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return [float(v) for v in out]


def dataset_drift(
    columns: dict[str, tuple[Distribution, Distribution]], options: Options = Options()
) -> dict[str, Any]:
    """Each column's drift (columns without data on either side are skipped, and named) and the dataset's."""
    tested = {
        name: column_drift(name, ref, cur, options)
        for name, (ref, cur) in columns.items()
        if ref.count and cur.count
    }
    if options.correction:
        names = [n for n, d in tested.items() if d.method in P_VALUE_TESTS]
        for name, p in zip(
            names, corrected([tested[n].statistic for n in names], options.correction), strict=True
        ):
            d = tested[name]
            tested[name] = ColumnDrift(
                **{**d.__dict__, "statistic": p, "drifted": _drifts(d.method, p, d.threshold)}
            )
    drifted = sorted(n for n, d in tested.items() if d.drifted)
    share = len(drifted) / len(tested) if tested else 0.0
    return {
        "dataset_drift": bool(tested) and share >= options.drift_share,
        "drifted_columns": drifted,
        "drift_share": share,
        "columns": {n: d.to_json() for n, d in sorted(tested.items())},
        "untested": sorted(set(columns) - set(tested)),
        "correction": options.correction,
    }
