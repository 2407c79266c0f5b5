"""The drift statistics against Evidently 0.7 (the oracle), on data generated here: the test Evidently would
choose, its statistic and its decision, per column. Exact data must agree to 1e-6; where a side is kept as a
DDSketch (more than 1,000 values), within the error the sketch allows; decisions must agree on a battery of
shifted and unshifted distributions. Corrections are checked against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from maestro.monitoring.distribution import ALPHA, NUMERIC, Distribution
from maestro.monitoring.drift import Options, column_drift, corrected, dataset_drift, ks_test, psi
from tests.evidently_oracle import SCENARIOS, battery, evidently

EVIDENTLY_NAMES = {"ks": "ks", "chisquare": "chisquare", "z": "z", "wasserstein": "wasserstein"}
EVIDENTLY_NAMES |= {"jensenshannon": "jensenshannon"}


def _ours(kind: str, ref: pd.Series, cur: pd.Series) -> tuple[Distribution, Distribution]:
    return Distribution.of(kind, ref.tolist()), Distribution.of(kind, cur.tolist())


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_on_exact_data_every_statistic_equals_evidently_s(scenario: str, seed: int) -> None:
    """Up to 1,000 values a side: Evidently's small-reference tests (KS, chi-square, Z)."""
    kind, ref, cur = battery(scenario, seed, 600, 900)
    name, statistic, drifted, psi_value = evidently(ref, cur, kind)
    ours = column_drift("x", *_ours(kind, ref, cur), Options())
    assert EVIDENTLY_NAMES[ours.method] == name
    assert ours.statistic == pytest.approx(statistic, rel=1e-6, abs=1e-12)
    assert ours.drifted == drifted
    assert ours.psi == pytest.approx(psi_value, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_large_references_use_distances_within_the_sketch_s_error(scenario: str) -> None:
    """More than 1,000 values a side: Wasserstein (numeric) or Jensen-Shannon, on sketches. A sketch moves
    each value by at most ALPHA of itself, so the normalised Wasserstein distance moves by at most
    ALPHA * (mean |x| of both sides) / std; categorical and few-valued columns are counted exactly."""
    kind, ref, cur = battery(scenario, 7, 20_000, 15_000)
    name, statistic, drifted, psi_value = evidently(ref, cur, kind)
    ours_ref, ours_cur = _ours(kind, ref, cur)
    if kind == NUMERIC:
        assert ours_ref.exact is None and ours_cur.exact is None  # the sketched path
    ours = column_drift("x", ours_ref, ours_cur, Options())
    assert EVIDENTLY_NAMES[ours.method] == name
    assert ours.drifted == drifted
    if ours.method == "wasserstein":
        r, c = ref.dropna(), cur.dropna()
        bound = ALPHA * (r.abs().mean() + c.abs().mean()) / max(float(np.std(r)), 0.001)
        assert abs(ours.statistic - statistic) <= bound
        assert ours.psi == pytest.approx(psi_value, abs=0.02)  # Sturges bins: values near an edge may move
    else:
        assert ours.statistic == pytest.approx(statistic, rel=1e-6, abs=1e-12)
        assert ours.psi == pytest.approx(psi_value, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("scenario", ["numeric, no shift", "numeric, mean shift", "numeric, variance change"])
def test_a_small_reference_against_a_sketched_window_keeps_evidently_s_decision(scenario: str) -> None:
    """KS with the current window kept as a sketch: D from the weighted ECDF, off by at most the current
    values' mass within +-ALPHA (relative) of some point, which the test measures on the data itself."""
    kind, ref, cur = battery(scenario, 11, 800, 6_000)
    name, _, drifted, _ = evidently(ref, cur, kind)
    ours_ref, ours_cur = _ours(kind, ref, cur)
    ours = column_drift("x", ours_ref, ours_cur, Options())
    assert (ours.method, ours.drifted) == (name, drifted)
    d, _ = ks_test(ours_ref, ours_cur)
    values = np.sort(cur.to_numpy())
    band = max(
        (
            np.searchsorted(values, x * (1 + ALPHA) if x > 0 else x * (1 - ALPHA), side="right")
            - np.searchsorted(values, x * (1 - ALPHA) if x > 0 else x * (1 + ALPHA), side="left")
        )
        for x in values
    ) / len(values)
    assert abs(d - stats.ks_2samp(ref, cur).statistic) <= band


def test_distributions_merged_from_batches_equal_one_built_from_all_rows() -> None:
    rng = np.random.default_rng(3)
    values = [*rng.lognormal(0, 1, 5_000).tolist(), None, "text", float("nan")]
    whole = Distribution.of(NUMERIC, values)
    merged = Distribution(NUMERIC)
    for start in range(0, len(values), 700):
        merged.merge(Distribution.from_json(Distribution.of(NUMERIC, values[start : start + 700]).to_json()))
    assert (merged.positive, merged.negative, merged.zeros) == (whole.positive, whole.negative, whole.zeros)
    assert (merged.low, merged.high, merged.exact, merged.distinct) == (whole.low, whole.high, None, None)
    assert (merged.count, merged.missing, merged.invalid) == (5_000, 2, 1)
    assert merged.std == pytest.approx(float(np.std(values[:5_000])), rel=1e-9)
    reference = Distribution.of(NUMERIC, rng.lognormal(0, 1, 5_000).tolist())
    assert psi(reference, merged) == pytest.approx(psi(reference, whole), rel=1e-9)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_corrections_equal_statsmodels(method: str) -> None:
    p = np.random.default_rng(5).uniform(0, 0.2, 12).tolist()
    expected = multipletests(p, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
    assert corrected(p, method) == pytest.approx(list(expected), rel=1e-12)


def test_two_shifted_features_of_eight_are_named_and_the_dataset_does_not_drift() -> None:
    rng = np.random.default_rng(9)
    columns = {}
    for i in range(8):
        ref = rng.normal(i, 1, 800)
        cur = rng.normal(i + (1.0 if i in (2, 5) else 0.0), 1, 800)
        columns[f"f{i}"] = (Distribution.of(NUMERIC, ref.tolist()), Distribution.of(NUMERIC, cur.tolist()))
    holm = Options(correction="holm")  # six unshifted columns at 5% each: without it, a false alarm is likely
    report = dataset_drift(columns, holm)
    assert report["drifted_columns"] == ["f2", "f5"]
    assert report["dataset_drift"] is False
    assert dataset_drift(columns, Options(correction="holm", drift_share=0.25))["dataset_drift"] is True


def test_a_column_keeps_a_bounded_number_of_buckets_whatever_it_sees() -> None:
    """Values around 0 reach ever smaller magnitudes as rows come in: the smallest buckets are collapsed."""
    from maestro.monitoring.distribution import MAX_BUCKETS

    values = np.random.default_rng(13).normal(0, 1, 200_000)
    column = Distribution.of(NUMERIC, values.tolist())
    assert len(column.positive) <= MAX_BUCKETS and len(column.negative) <= MAX_BUCKETS
    assert sum(column.positive.values()) + sum(column.negative.values()) + column.zeros == 200_000
    assert Distribution.from_json(column.to_json()).to_json() == column.to_json()
    assert (column.low, column.high) == (values.min(), values.max())
