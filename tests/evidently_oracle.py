"""Evidently 0.7 as the drift oracle (tests and benches only): its own choice of test, statistic and decision
for one column. Evidently 0.7.23 imports a pandas helper that pandas 3 removed, used only by a data-integrity
test we never run; it is given back before evidently is imported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandas.core.dtypes.common as pandas_common

from maestro.monitoring.distribution import CATEGORICAL, NUMERIC

if not hasattr(pandas_common, "infer_dtype_from_object"):
    pandas_common.infer_dtype_from_object = lambda dtype: pandas_common.pandas_dtype(dtype).type  # type: ignore[attr-defined]

from evidently.legacy.calculations.stattests import psi_stat_test
from evidently.legacy.calculations.stattests.registry import get_stattest
from evidently.legacy.core import ColumnType


def evidently(ref: pd.Series, cur: pd.Series, kind: str) -> tuple[str, float, bool, float]:
    """Evidently's test name, statistic, decision and PSI on the non-missing values."""
    column_type = ColumnType.Categorical if kind == CATEGORICAL else ColumnType.Numerical
    ref, cur = ref.dropna(), cur.dropna()
    test = get_stattest(ref, cur, column_type, None)
    result = test(ref, cur, column_type, None)
    psi_value = psi_stat_test(ref, cur, column_type, None).drift_score
    return test.name, float(result.drift_score), bool(result.drifted), float(psi_value)


# The battery of shifted and unshifted distributions both the tests and `make bench` compare on.
Generator = Callable[[np.random.Generator, int], Any]
SCENARIOS: dict[str, tuple[str, Generator, Generator]] = {
    "numeric, no shift": (NUMERIC, lambda r, n: r.normal(10, 2, n), lambda r, n: r.normal(10, 2, n)),
    "numeric, mean shift": (NUMERIC, lambda r, n: r.normal(10, 2, n), lambda r, n: r.normal(11, 2, n)),
    "numeric, variance change": (NUMERIC, lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(0, 2.5, n)),
    "numeric, missing spike": (
        NUMERIC,
        lambda r, n: r.normal(5, 1, n),
        lambda r, n: np.where(r.random(n) < 0.4, np.nan, r.normal(5, 1, n)),
    ),
    "numeric, 3 values": (
        NUMERIC,
        lambda r, n: r.choice([1.0, 2.0, 3.0], n),
        lambda r, n: r.choice([1.0, 2.0, 3.0], n, p=[0.5, 0.3, 0.2]),
    ),
    "binary, no shift": (NUMERIC, lambda r, n: r.choice([0.0, 1.0], n), lambda r, n: r.choice([0.0, 1.0], n)),
    "binary, shift": (
        NUMERIC,
        lambda r, n: r.choice([0.0, 1.0], n),
        lambda r, n: r.choice([0.0, 1.0], n, p=[0.3, 0.7]),
    ),
    "categorical, no shift": (
        CATEGORICAL,
        lambda r, n: r.choice(list("abcd"), n),
        lambda r, n: r.choice(list("abcd"), n),
    ),
    "categorical, new category": (
        CATEGORICAL,
        lambda r, n: r.choice(list("abc"), n),
        lambda r, n: r.choice(list("abcd"), n, p=[0.3, 0.3, 0.2, 0.2]),
    ),
    "categorical, proportions": (
        CATEGORICAL,
        lambda r, n: r.choice(list("abc"), n),
        lambda r, n: r.choice(list("abc"), n, p=[0.5, 0.3, 0.2]),
    ),
}


def battery(scenario: str, seed: int, n_ref: int, n_cur: int) -> tuple[str, pd.Series, pd.Series]:
    kind, make_ref, make_cur = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    return kind, pd.Series(make_ref(rng, n_ref)), pd.Series(make_cur(rng, n_cur))
